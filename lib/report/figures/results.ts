import type { Method, RunRecord } from '../../experiments/records';
import type { Axis, BarTrace, Figure, HeatmapTrace, ScatterTrace } from '../plotly-types';
import { groupRecords, labelPercents, summarise, type Summary } from '../stats';
import { METHOD_STYLES, orderMethods, paletteColor } from '../style';

/** Summary of `value` over seeds for each label % of one method (records with null left out). */
export function summariseByLabelPct(
  records: RunRecord[], method: Method, value: (r: RunRecord) => number | null,
): Map<number, Summary> {
  const out = new Map<number, Summary>();
  for (const group of groupRecords(records)) {
    if (group.method !== method) continue;
    const values = group.records.map(value).filter((v): v is number => v !== null && Number.isFinite(v));
    if (values.length > 0) out.set(group.labelPct, summarise(values));
  }
  return out;
}

/** Log-scale label-fraction axis with a tick at every fraction that was run. */
function labelPctAxis(pcts: number[]): Axis {
  const lo = Math.log10(Math.min(...pcts));
  const hi = Math.log10(Math.max(...pcts));
  return {
    title: { text: 'labelled training images (%)' }, type: 'log',
    tickvals: pcts, ticktext: pcts.map((p) => `${p}%`), range: [lo - 0.15, hi + 0.15],
  };
}

function errorBars(values: number[]): ScatterTrace['error_y'] {
  return { type: 'data', array: values, visible: true, thickness: 1.5, width: 6 };
}

const seedsNote = (summaries: Summary[]): string => {
  const ns = [...new Set(summaries.map((s) => s.n))].sort((a, b) => a - b);
  return ns.length === 1 ? `n = ${ns[0]} seeds` : `n = ${ns[0]}–${ns[ns.length - 1]} seeds`;
};

/**
 * Test accuracy against the fraction of labels, one line per method: mean over seeds with
 * error bars of ±1 sample standard deviation.
 */
export function accuracyVsLabelsFigure(records: RunRecord[]): Figure {
  const all: Summary[] = [];
  const data: ScatterTrace[] = orderMethods(records.map((r) => r.method)).map((method) => {
    const byPct = summariseByLabelPct(records, method, (r) => r.testAccuracy);
    const pcts = [...byPct.keys()].sort((a, b) => a - b);
    const summaries = pcts.map((p) => byPct.get(p) as Summary);
    all.push(...summaries);
    return {
      type: 'scatter', mode: 'lines+markers', name: METHOD_STYLES[method].label,
      x: pcts, y: summaries.map((s) => 100 * s.mean), error_y: errorBars(summaries.map((s) => 100 * s.std)),
      line: { color: METHOD_STYLES[method].color, width: 2 }, marker: { size: 8 },
      text: summaries.map((s) => `n = ${s.n}`),
      hovertemplate: '%{x}% labels: %{y:.1f}% ± %{error_y.array:.1f} (%{text})<extra></extra>',
    };
  });
  return {
    data,
    layout: {
      title: { text: `Test accuracy vs labelled fraction (mean ± std, ${seedsNote(all)})` },
      width: 900, height: 550,
      xaxis: labelPctAxis(labelPercents(records)),
      yaxis: { title: { text: 'test accuracy (%)' } },
    },
  };
}

/** One validation curve of the convergence figure: a run's best-so-far points against steps. */
export interface ConvergenceCurve {
  method: Method;
  labelPct: number;
  seed: number;
  points: Array<{ steps: number; seconds: number; valAccuracy: number }>;
}

/**
 * Validation accuracy against optimizer steps (log scale), one line per method and label budget
 * (the first seed), with the convergence target of each budget as a dotted line: steps mean the
 * same for every method, where epochs of different-sized labelled sets do not.
 */
export function convergenceFigure(curves: ConvergenceCurve[], targets: Map<number, number>): Figure {
  const pcts = [...new Set(curves.map((c) => c.labelPct))].sort((a, b) => b - a);
  const dashes = ['solid', 'dash', 'dot', 'dashdot'];
  const data: ScatterTrace[] = curves.map((c) => ({
    type: 'scatter', mode: 'lines+markers', name: `${METHOD_STYLES[c.method].label}, ${c.labelPct}%`,
    x: c.points.map((p) => p.steps), y: c.points.map((p) => 100 * p.valAccuracy),
    line: { color: METHOD_STYLES[c.method].color, width: 2, dash: dashes[pcts.indexOf(c.labelPct) % dashes.length] }, marker: { size: 4 },
    hovertemplate: `${METHOD_STYLES[c.method].label}, ${c.labelPct}% labels, seed ${c.seed}<br>step %{x}: %{y:.1f}%<extra></extra>`,
  }));
  const maxSteps = Math.max(1, ...curves.flatMap((c) => c.points.map((p) => p.steps)));
  for (const pct of pcts) {
    const target = targets.get(pct);
    if (target === undefined) continue;
    data.push({
      type: 'scatter', mode: 'lines', name: `target at ${pct}%`, x: [1, maxSteps], y: [100 * target, 100 * target],
      line: { color: '#444444', width: 1, dash: dashes[pcts.indexOf(pct) % dashes.length] }, hovertemplate: `target at ${pct}% labels: %{y:.1f}%<extra></extra>`,
    });
  }
  return {
    data,
    layout: {
      title: { text: 'Validation accuracy vs optimizer steps (first seed; flat lines: targets)' },
      width: 1000, height: 600,
      xaxis: { title: { text: 'optimizer steps' }, type: 'log' },
      yaxis: { title: { text: 'validation accuracy (%)' } },
    },
  };
}

/** Test accuracy against wall seconds per run (log scale): one marker per method and label budget, mean over seeds. */
export function accuracyVsWallTimeFigure(records: RunRecord[]): Figure {
  const data: ScatterTrace[] = orderMethods(records.map((r) => r.method)).map((method) => {
    const groups = groupRecords(records.filter((r) => r.method === method));
    const points = groups.map((g) => ({
      pct: g.labelPct,
      seconds: summarise(g.records.map((r) => r.wallSeconds)).mean,
      accuracy: summarise(g.records.map((r) => r.testAccuracy)),
    }));
    return {
      type: 'scatter', mode: 'markers+text', name: METHOD_STYLES[method].label,
      x: points.map((p) => Math.max(p.seconds, 0.01)), y: points.map((p) => 100 * p.accuracy.mean),
      error_y: errorBars(points.map((p) => 100 * p.accuracy.std)),
      text: points.map((p) => `${p.pct}%`), textposition: 'top center',
      marker: { color: METHOD_STYLES[method].color, size: 9 },
      hovertemplate: `${METHOD_STYLES[method].label}, %{text} labels<br>%{x:.1f} s per run: %{y:.1f}%<extra></extra>`,
    };
  });
  return {
    data,
    layout: {
      title: { text: 'Test accuracy against wall time per run (mean ± std over seeds; pretraining time not included)' },
      width: 1000, height: 600,
      xaxis: { title: { text: 'wall seconds per run' }, type: 'log' },
      yaxis: { title: { text: 'test accuracy (%)' } },
    },
  };
}

/** Linear-probe test accuracy of the encoder saved part-way through pretraining, one line per label budget. */
export function checkpointFigure(points: Array<{ epoch: number; labelPct: number; accuracy: number }>, publishedNote: string): Figure {
  const pcts = [...new Set(points.map((p) => p.labelPct))].sort((a, b) => b - a);
  const data: ScatterTrace[] = pcts.map((pct, i) => {
    const line = points.filter((p) => p.labelPct === pct).sort((a, b) => a.epoch - b.epoch);
    return {
      type: 'scatter', mode: 'lines+markers', name: `${pct}% labels`,
      x: line.map((p) => p.epoch), y: line.map((p) => 100 * p.accuracy),
      line: { color: paletteColor(i), width: 2 }, marker: { size: 8 },
      hovertemplate: `${pct}% labels, epoch %{x}: %{y:.1f}%<extra></extra>`,
    };
  });
  return {
    data,
    layout: {
      title: { text: `Linear probe of the encoder part-way through pretraining (${publishedNote})` },
      width: 900, height: 500,
      xaxis: { title: { text: 'pretraining epochs' } },
      yaxis: { title: { text: 'test accuracy (%)' } },
    },
  };
}

/** Methods whose gain over the supervised baseline the SSL-gain figure shows. */
export const GAIN_METHODS: Method[] = ['simclr-linear', 'simclr-finetune'];
export const GAIN_BASELINE: Method = 'supervised-resnet';

/**
 * Gain of SimCLR (linear probe, fine-tune) over the supervised ResNet trained from scratch, in
 * percentage points of test accuracy per label %: difference of the means over seeds, with
 * error bars sqrt(std_a² + std_b²) (the runs are not paired by seed).
 */
export function sslGainFigure(records: RunRecord[]): Figure {
  const baseline = summariseByLabelPct(records, GAIN_BASELINE, (r) => r.testAccuracy);
  const data: ScatterTrace[] = GAIN_METHODS.flatMap((method) => {
    const ours = summariseByLabelPct(records, method, (r) => r.testAccuracy);
    const pcts = [...ours.keys()].filter((p) => baseline.has(p)).sort((a, b) => a - b);
    if (pcts.length === 0) return [];
    const pairs = pcts.map((p) => [ours.get(p), baseline.get(p)] as [Summary, Summary]);
    return [{
      type: 'scatter', mode: 'lines+markers', name: `${METHOD_STYLES[method].label} − supervised`,
      x: pcts, y: pairs.map(([a, b]) => 100 * (a.mean - b.mean)),
      error_y: errorBars(pairs.map(([a, b]) => 100 * Math.sqrt(a.std ** 2 + b.std ** 2))),
      line: { color: METHOD_STYLES[method].color, width: 2 }, marker: { size: 8 },
      hovertemplate: '%{x}% labels: %{y:+.1f} ± %{error_y.array:.1f} points<extra></extra>',
    }];
  });
  const pcts = [...new Set(data.flatMap((t) => t.x))].sort((a, b) => a - b);
  return {
    data,
    layout: {
      title: { text: 'Gain of SimCLR pretraining over supervised training from scratch (mean ± std)' },
      width: 900, height: 500,
      xaxis: pcts.length > 0 ? labelPctAxis(pcts) : { title: { text: 'labelled training images (%)' }, type: 'log' },
      yaxis: { title: { text: 'test accuracy gain (percentage points)' }, zeroline: true },
    },
  };
}

/**
 * Confusion matrix with each row divided by its total, so the diagonal is per-class recall.
 * @param confusion counts [classes, classes], rows = true class, columns = predicted class
 */
export function confusionFigure(confusion: number[][], classNames: string[], title: string): Figure {
  const z = confusion.map((row) => {
    const total = row.reduce((s, v) => s + v, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
  const trace: HeatmapTrace = {
    type: 'heatmap', z, x: classNames, y: classNames, colorscale: 'Blues', reversescale: true, zmin: 0, zmax: 1,
    text: z.map((row) => row.map((v) => (v >= 0.005 ? `${Math.round(100 * v)}` : ''))),
    texttemplate: '%{text}', colorbar: { title: { text: 'fraction of true class' } },
    hovertemplate: 'true %{y}, predicted %{x}: %{z:.1%}<extra></extra>',
  };
  return {
    data: [trace],
    layout: {
      title: { text: title }, width: 720, height: 640,
      xaxis: { title: { text: 'predicted class' }, type: 'category' },
      yaxis: { title: { text: 'true class' }, type: 'category', autorange: 'reversed' },
    },
  };
}

/** Sums the confusion matrices of several runs (e.g. the seeds of one method and label %). */
export function sumConfusions(matrices: number[][][]): number[][] {
  return matrices[0].map((row, i) => row.map((_, j) => matrices.reduce((s, m) => s + m[i][j], 0)));
}
