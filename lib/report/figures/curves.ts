import type { Method } from '../../experiments/records';
import type { EpochRecord } from '../../train/history';
import type { Annotation, Axis, Figure, Line, ScatterTrace, Shape } from '../plotly-types';
import { METHOD_STYLES, paletteColor } from '../style';

/** One run's history, named for legends and hover text. */
export interface CurveRun {
  /** e.g. 'simclr-linear 10% seed 0' */
  name: string;
  /** colours the curve by method; runs without one (pretraining) take the palette in order */
  method?: Method;
  /** sets the dash: solid 100%, dashed 50%, dotted 10%, dash-dot 1% */
  labelPct?: number;
  epochs: EpochRecord[];
  /** learning rate of every optimizer step (`step-lr.json`) */
  stepLearningRates?: number[];
}

function runLine(run: CurveRun, index: number): Line {
  const color = run.method ? METHOD_STYLES[run.method].color : paletteColor(index);
  const dash: Line['dash'] = run.labelPct === undefined || run.labelPct >= 100 ? 'solid'
    : run.labelPct >= 50 ? 'dash' : run.labelPct >= 10 ? 'dot' : 'dashdot';
  return { color, dash, width: 2 };
}

/** Legend entries per method (many seeds share one entry), per run otherwise. */
function legendFields(run: CurveRun, seen: Set<string>): Pick<ScatterTrace, 'name' | 'legendgroup' | 'showlegend'> {
  if (!run.method) return { name: run.name, legendgroup: run.name, showlegend: true };
  const group = run.labelPct === undefined ? run.method : `${run.method}@${run.labelPct}`;
  const first = !seen.has(group);
  seen.add(group);
  const label = METHOD_STYLES[run.method].label + (run.labelPct === undefined ? '' : `, ${run.labelPct}% labels`);
  return { name: label, legendgroup: group, showlegend: first };
}

/** One line per run of `value(epoch)` against the epoch; epochs where it is undefined are skipped. */
function epochTraces(
  runs: CurveRun[], value: (e: EpochRecord) => number | undefined, axes: { x: string; y: string },
  legend: boolean, seen: Set<string>,
): ScatterTrace[] {
  return runs.flatMap((run, i) => {
    const points = run.epochs.filter((e) => value(e) !== undefined && Number.isFinite(value(e)));
    if (points.length === 0) return [];
    const fields = legendFields(run, seen);
    return [{
      type: 'scatter', mode: points.length > 30 ? 'lines' : 'lines+markers',
      x: points.map((e) => e.epoch), y: points.map((e) => value(e) as number),
      line: runLine(run, i), xaxis: axes.x, yaxis: axes.y,
      ...fields, showlegend: legend && fields.showlegend,
      hovertemplate: `${run.name}<br>epoch %{x}: %{y:.4g}<extra></extra>`,
    }];
  });
}

const epochAxis = (anchor?: string, domain?: [number, number]): Axis =>
  ({ title: { text: 'epoch' }, ...(anchor ? { anchor } : {}), ...(domain ? { domain } : {}) });

/** A subplot's title, centred above its horizontal `domain`. */
function panelTitle(text: string, domain: [number, number]): Annotation {
  return {
    text: `<b>${text}</b>`, x: (domain[0] + domain[1]) / 2, y: 1.02, xref: 'paper', yref: 'paper',
    showarrow: false, xanchor: 'center', yanchor: 'bottom', font: { size: 14 },
  };
}

/**
 * SimCLR pretraining in three panels: the training loss (NT-Xent plus, when the run has one, the
 * online probe's cross-entropy: the loop minimises their sum), kNN (and online probe) validation
 * accuracy, and the collapse monitor (per-dimension std of the L2-normalised encoder features; a
 * collapsed encoder gives 0).
 * @param featureDim when given, draws 1/sqrt(d), the std of features spread evenly over the sphere
 */
export function pretrainingCurvesFigure(runs: CurveRun[], featureDim?: number): Figure {
  const domains: Array<[number, number]> = [[0, 0.28], [0.36, 0.64], [0.72, 1]];
  const seen = new Set<string>();
  const data: ScatterTrace[] = [
    ...epochTraces(runs, (e) => e.trainLoss, { x: 'x', y: 'y' }, true, seen),
    ...epochTraces(runs, (e) => (e.knnAccuracy === undefined ? undefined : 100 * e.knnAccuracy), { x: 'x2', y: 'y2' }, false, seen),
    ...epochTraces(runs, (e) => (e.onlineProbeAccuracy === undefined ? undefined : 100 * e.onlineProbeAccuracy), { x: 'x2', y: 'y2' }, false, seen)
      .map((t) => ({ ...t, line: { ...t.line, dash: 'dot' as const }, name: `${t.name} (online probe)` })),
    ...epochTraces(runs, (e) => e.embeddingStd, { x: 'x3', y: 'y3' }, false, seen),
  ];
  const shapes: Shape[] = featureDim ? [{
    type: 'line', xref: 'x3 domain', yref: 'y3', x0: 0, x1: 1,
    y0: 1 / Math.sqrt(featureDim), y1: 1 / Math.sqrt(featureDim), line: { color: '#888', dash: 'dash', width: 1 },
  }] : [];
  return {
    data,
    layout: {
      title: { text: 'SimCLR pretraining' },
      width: 1200, height: 430,
      xaxis: epochAxis('y', domains[0]), yaxis: { title: { text: 'NT-Xent + online-probe loss' }, anchor: 'x' },
      xaxis2: epochAxis('y2', domains[1]), yaxis2: { title: { text: 'validation accuracy (%)' }, anchor: 'x2' },
      xaxis3: epochAxis('y3', domains[2]), yaxis3: { title: { text: 'embedding std' }, anchor: 'x3', range: [0, collapseAxisTop(runs, featureDim)] },
      annotations: [
        panelTitle('training loss', domains[0]),
        panelTitle('kNN accuracy (dotted: online probe)', domains[1]),
        panelTitle(featureDim ? `collapse monitor (dashed: 1/√${featureDim})` : 'collapse monitor', domains[2]),
      ],
      shapes,
      legend: { orientation: 'h', y: -0.3 },
      margin: { t: 90, b: 110 },
    },
  };
}

/** Upper end of the collapse panel: room above the highest curve and the reference line. */
function collapseAxisTop(runs: CurveRun[], featureDim?: number): number {
  const values = runs.flatMap((r) => r.epochs.map((e) => e.embeddingStd ?? 0));
  if (featureDim) values.push(1 / Math.sqrt(featureDim));
  return 1.15 * Math.max(1e-3, ...values);
}

function perEpochFigure(runs: CurveRun[], title: string, yTitle: string, value: (e: EpochRecord) => number | undefined): Figure {
  return {
    data: epochTraces(runs, value, { x: 'x', y: 'y' }, true, new Set()),
    layout: {
      title: { text: title }, width: 900, height: 500,
      xaxis: epochAxis(), yaxis: { title: { text: yTitle } },
      legend: { title: { text: 'dash: label fraction' } },
    },
  };
}

/** Validation accuracy (%) per epoch, one line per run, coloured by method. */
export function validationCurvesFigure(runs: CurveRun[]): Figure {
  return perEpochFigure(runs, 'Validation accuracy per epoch', 'validation accuracy (%)',
    (e) => (e.valAccuracy === undefined ? undefined : 100 * e.valAccuracy));
}

/** Mean training loss per epoch, one line per run, coloured by method. */
export function trainingLossFigure(runs: CurveRun[]): Figure {
  return perEpochFigure(runs, 'Training loss per epoch', 'training loss (cross-entropy or NT-Xent)', (e) => e.trainLoss);
}

/** Learning rate of every optimizer step (warm-up then decay), one line per run. */
export function learningRateFigure(runs: CurveRun[]): Figure {
  const seen = new Set<string>();
  const data: ScatterTrace[] = runs.flatMap((run, i) => {
    const lrs = run.stepLearningRates ?? [];
    if (lrs.length === 0) return [];
    return [{
      type: 'scatter', mode: 'lines', x: lrs.map((_, s) => s + 1), y: lrs, line: runLine(run, i),
      ...legendFields(run, seen), hovertemplate: `${run.name}<br>step %{x}: %{y:.4g}<extra></extra>`,
    }];
  });
  return {
    data,
    layout: {
      title: { text: 'Learning-rate schedules' }, width: 900, height: 450,
      xaxis: { title: { text: 'optimizer step' } }, yaxis: { title: { text: 'learning rate' } },
    },
  };
}
