import type { EncoderConfig } from '../config/types';
import { type CurvePoint, timeToAccuracy } from '../eval/convergence';
import { ABLATION_ARMS, type Method, type RunRecord } from '../experiments/records';
import type { LrSearch, PretrainSummary } from '../experiments/study';
import { makeEncoder } from '../models/make-encoder';
import type { RunHistory } from '../train/history';
import { Rng } from '../util/random';
import { bootstrapInterval, correctnessOfAll, groupRecords, labelPercents, summarise, type Summary } from './stats';
import { METHOD_STYLES, orderMethods } from './style';
import { mainRecords, type Cell, type Table } from './tables';

/** Fraction of the best method's validation accuracy that defines "converged enough" at a label budget. */
export const CONVERGENCE_TARGET = 0.9;

/**
 * The target's level at one label budget: CONVERGENCE_TARGET x the best mean best validation
 * accuracy among the methods trained with equal labels; the compute-matched run, given many times
 * the steps, would set a level the others cannot reach in theirs.
 */
export function convergenceTargetOf(groups: Array<{ method: Method; records: RunRecord[] }>): number {
  const equalLabels = groups.filter((g) => g.method !== 'supervised-resnet-matched');
  return CONVERGENCE_TARGET * Math.max(...(equalLabels.length > 0 ? equalLabels : groups).map((g) => summarise(g.records.map((r) => r.valAccuracy)).mean));
}

/** A run's validation curve against optimizer steps and cumulative wall seconds. */
export function curvePoints(history: RunHistory): CurvePoint[] {
  let seconds = 0;
  return history.epochs.flatMap((e) => {
    seconds += e.seconds;
    return e.valAccuracy === undefined ? [] : [{ valAccuracy: e.valAccuracy, steps: e.steps, seconds }];
  });
}

const meanOf = (values: number[]): Summary | null => (values.length > 0 ? summarise(values) : null);

/**
 * Convergence that compares across methods and budgets: at each label budget the target is
 * `convergenceTargetOf` (90 % of the best equal-label method's validation accuracy), and each method's row
 * gives the optimizer steps and wall seconds its runs took to first reach it (mean over the runs
 * that did, and how many did), with the real epochs to its own best. Linear probes count steps on
 * cached features, so their seconds leave out the one feature extraction.
 */
export function convergenceTable(records: RunRecord[], histories: Map<string, RunHistory>): Table {
  const rows: Cell[][] = [];
  const trained = mainRecords(records).filter((r) => r.steps > 0 && histories.has(r.runDir));
  for (const labelPct of labelPercents(trained).reverse()) {
    const groups = groupRecords(trained.filter((r) => r.labelPct === labelPct));
    const target = convergenceTargetOf(groups);
    for (const { method, records: rs } of groups) {
      const hits = rs.map((r) => timeToAccuracy(curvePoints(histories.get(r.runDir)!), target)).filter((h): h is { steps: number; seconds: number } => h !== null);
      rows.push([
        METHOD_STYLES[method].label, labelPct, 100 * target, `${hits.length}/${rs.length}`,
        meanOf(hits.map((h) => h.steps)), meanOf(hits.map((h) => h.seconds)),
        meanOf(rs.map((r) => r.epochsToBest).filter((e): e is number => e !== null)),
      ]);
    }
  }
  return {
    columns: [
      { name: 'Method' }, { name: 'Labels (%)' }, { name: 'Target val. accuracy (%)', digits: 1 }, { name: 'Reached' },
      { name: 'Steps to target', digits: 0 }, { name: 'Seconds to target', digits: 1 }, { name: 'Real epochs to best', digits: 1 },
    ],
    rows,
  };
}

/** Trainable parameters and feature dimension of an encoder configuration (builds it once, untrained). */
export function encoderSize(config: EncoderConfig): { parameters: number; featureDim: number } {
  const encoder = makeEncoder(config, new Rng(0));
  try {
    return { parameters: [...encoder.trainable.values()].reduce((s, v) => s + v.size, 0), featureDim: encoder.featureDim };
  } finally {
    encoder.dispose();
  }
}

/** The encoders of the study with their size: the two architectures differ, and the tables should say by how much. */
export function encodersTable(encoders: Array<{ role: string; config: EncoderConfig }>): Table {
  return {
    columns: [{ name: 'Encoder' }, { name: 'Used by' }, { name: 'Parameters', digits: 0 }, { name: 'Feature dimension', digits: 0 }],
    rows: encoders.map(({ role, config }) => {
      const { parameters, featureDim } = encoderSize(config);
      const name = config.kind === 'resnet' ? `ResNet, width ${config.width}, blocks ${config.blocksPerStage.join('-')}` : `basic CNN, width ${config.width}`;
      return [name, role, parameters, featureDim];
    }),
  };
}

/** Wall time and training throughput per method (all label budgets and seeds together), pretraining included. */
export function speedTable(records: RunRecord[], pretraining: PretrainSummary[]): Table {
  const main = mainRecords(records);
  const rows: Cell[][] = orderMethods(main.map((r) => r.method)).map((method) => {
    const rs = main.filter((r) => r.method === method);
    const trained = rs.filter((r) => r.imagesPerSecond > 0);
    return [METHOD_STYLES[method].label, rs.length, summarise(rs.map((r) => r.wallSeconds)), rs.reduce((s, r) => s + r.wallSeconds, 0), meanOf(trained.map((r) => r.imagesPerSecond))];
  });
  for (const p of pretraining.filter((run) => run.name === 'pretrain')) rows.unshift(['SimCLR pretraining (image pairs)', 1, summarise([p.wallSeconds]), p.wallSeconds, summarise([p.imagesPerSecond])]);
  return {
    columns: [{ name: 'Method' }, { name: 'Runs' }, { name: 'Wall per run (s)', digits: 1 }, { name: 'Wall total (s)', digits: 0 }, { name: 'Training images/s', digits: 0 }],
    rows,
  };
}

/**
 * The dynamic-sampling ablation: each arm's probe test accuracy over the pretraining seeds
 * (mean ± std), the steps it pretrained for, and its difference from the fresh-subset arm, paired
 * by pretraining seed, with a 95 % bootstrap interval.
 */
export function ablationTable(records: RunRecord[], pretraining: PretrainSummary[]): Table {
  const arms = ABLATION_ARMS.map(({ mode, method }) => ({ mode, method, runs: records.filter((r) => r.method === method).sort((a, b) => a.seed - b.seed) }))
    .filter((a) => a.runs.length > 0);
  const fresh = arms.find((a) => a.mode === 'fresh-subset');
  return {
    columns: [
      { name: 'Pretraining arm' }, { name: 'Seeds' }, { name: 'Steps' }, { name: 'Probe labels (%)' },
      { name: 'Test accuracy (%)', digits: 1 }, { name: 'Minus fresh subset (points)', digits: 1 },
    ],
    rows: arms.map((arm) => {
      const steps = [...new Set(pretraining.filter((p) => p.sampling.mode === arm.mode && p.name.startsWith('ablation-')).map((p) => p.steps))];
      let gap: Summary | null = null;
      if (fresh && arm !== fresh) {
        const seeds = arm.runs.map((r) => r.seed).filter((s) => fresh.runs.some((f) => f.seed === s));
        const mine = arm.runs.filter((r) => seeds.includes(r.seed));
        const theirs = seeds.map((s) => fresh.runs.find((f) => f.seed === s)!);
        const diffs = mine.map((r, i) => 100 * (r.testAccuracy - theirs[i].testAccuracy));
        const ci = bootstrapInterval(correctnessOfAll(mine), correctnessOfAll(theirs), { pairedSeeds: true });
        gap = { ...summarise(diffs), ...(ci ? { ci: [100 * ci[0], 100 * ci[1]] as [number, number] } : {}) };
      }
      return [
        METHOD_STYLES[arm.method].label, arm.runs.map((r) => r.seed).join(', '), steps.join(', ') || '–', arm.runs[0].labelPct,
        summarise(arm.runs.map((r) => 100 * r.testAccuracy)), gap,
      ];
    }),
  };
}

/** Linear-probe test accuracy of the encoder saved part-way through pretraining, one row per checkpoint, the final encoder last. */
export function checkpointTable(records: RunRecord[], finalEpoch: number | undefined, probeSeed: number): Table {
  const checkpoints = records.filter((r) => r.method === 'simclr-checkpoint-linear');
  const finals = records.filter((r) => r.method === 'simclr-linear' && r.seed === probeSeed);
  const pcts = [...new Set(checkpoints.map((r) => r.labelPct))].sort((a, b) => b - a);
  const epochs = [...new Set(checkpoints.map((r) => r.pretrainEpoch ?? 0))].sort((a, b) => a - b);
  const cell = (rs: RunRecord[]): Cell => (rs.length > 0 ? summarise(rs.map((r) => 100 * r.testAccuracy)) : null);
  const rows: Cell[][] = epochs.map((epoch) => [epoch, ...pcts.map((p) => cell(checkpoints.filter((r) => r.pretrainEpoch === epoch && r.labelPct === p)))]);
  if (finalEpoch !== undefined) rows.push([finalEpoch, ...pcts.map((p) => cell(finals.filter((r) => r.labelPct === p)))]);
  return { columns: [{ name: 'Pretraining epochs' }, ...pcts.map((p) => ({ name: `${p}% labels`, digits: 1 }))], rows };
}

/** The fine-tuning learning-rate search: validation accuracy per grid point at each searched label budget, and the choice. */
export function lrSearchTable(searches: LrSearch[]): Table {
  const rates = [...new Set(searches.flatMap((s) => s.grid.map((g) => g.learningRate)))].sort((a, b) => b - a);
  return {
    columns: [{ name: 'Labels (%)' }, { name: 'Seed' }, ...rates.map((lr) => ({ name: `lr ${lr}: val. (%)`, digits: 1 })), { name: 'Chosen' }],
    rows: [...searches].sort((a, b) => b.labelPct - a.labelPct).map((s) => [
      s.labelPct, s.seed, ...rates.map((lr) => {
        const point = s.grid.find((g) => g.learningRate === lr);
        return point ? 100 * point.valAccuracy : null;
      }), String(s.chosen),
    ]),
  };
}

/** The (method, label %) groups with runs that ended without a validation plateau, and those runs' seeds. */
export function undertrainedRuns(records: RunRecord[]): Array<{ method: Method; labelPct: number; seeds: number[] }> {
  return groupRecords(records.filter((r) => r.plateau === false)).map((g) => ({ method: g.method, labelPct: g.labelPct, seeds: g.records.map((r) => r.seed) }));
}
