import type { Annotation, Axis, Figure, Layout, ScatterTrace } from '../plotly-types';
import { pca } from '../pca';
import { paletteColor } from '../style';

/** Features of one encoder to project: row-major [n, dim] with one label per row. */
export interface FeaturePanel {
  /** e.g. 'SimCLR encoder' or 'random encoder' */
  title: string;
  features: Float32Array;
  dim: number;
  labels: ArrayLike<number>;
}

/**
 * Scatter of each panel's features on their first two principal components, coloured by
 * class, panels side by side (e.g. SimCLR vs random encoder). PCA runs per panel.
 */
export function projectionFigure(panels: FeaturePanel[], classNames: string[]): Figure {
  const width = 1 / panels.length;
  const data: ScatterTrace[] = [];
  const annotations: Annotation[] = [];
  const layout: Partial<Layout> = {};
  const axisKeys = ['', '2', '3'];
  if (panels.length > axisKeys.length) throw new Error(`projectionFigure: at most ${axisKeys.length} panels`);
  panels.forEach((panel, p) => {
    const n = panel.labels.length;
    const { projected, explainedRatio } = pca(panel.features, n, panel.dim, 2);
    const suffix = axisKeys[p];
    classNames.forEach((name, c) => {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => panel.labels[i] === c);
      data.push({
        type: 'scatter', mode: 'markers', name, legendgroup: name, showlegend: p === 0,
        x: rows.map((i) => projected[2 * i]), y: rows.map((i) => projected[2 * i + 1]), // [n, 2] rows
        marker: { color: paletteColor(c), size: 4, opacity: 0.7 },
        xaxis: `x${suffix}`, yaxis: `y${suffix}`,
        hovertemplate: `${name}<extra>${panel.title}</extra>`,
      });
    });
    const domain: [number, number] = [p * width + 0.04, (p + 1) * width - 0.04];
    const pct = (r: number): string => `${(100 * r).toFixed(1)}% of variance`;
    const xAxis: Axis = { title: { text: `PC 1 (${pct(explainedRatio[0])})` }, domain, anchor: `y${suffix}`, zeroline: false };
    const yAxis: Axis = { title: { text: `PC 2 (${pct(explainedRatio[1])})` }, anchor: `x${suffix}`, zeroline: false };
    Object.assign(layout, { [`xaxis${suffix}`]: xAxis, [`yaxis${suffix}`]: yAxis });
    annotations.push({
      text: `<b>${panel.title}</b>`, x: (domain[0] + domain[1]) / 2, y: 1.02, xref: 'paper', yref: 'paper',
      showarrow: false, xanchor: 'center', yanchor: 'bottom', font: { size: 14 },
    });
  });
  return {
    data,
    layout: {
      ...layout,
      title: { text: 'Features projected on their first two principal components' },
      width: 560 * panels.length + 160, height: 560, annotations,
      legend: { title: { text: 'class' } }, hovermode: 'closest',
    },
  };
}
