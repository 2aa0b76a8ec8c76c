import type { Method, RunRecord } from '../experiments/records';
import { unpackBits } from '../util/bitset';
import { Rng } from '../util/random';
import { orderMethods } from './style';

/** Mean, spread and count of one quantity over seeds. */
export interface Summary {
  mean: number;
  /** sample standard deviation (n - 1 in the denominator); 0 when n = 1 */
  std: number;
  n: number;
  /** 95 % bootstrap interval of the mean, same unit (`bootstrapInterval`), where one was computed */
  ci?: [number, number];
}

/** Mean and sample standard deviation of `values` (NaN mean when empty). */
export function summarise(values: number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const squares = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(squares / (n - 1)), n };
}

/** The records of one method at one label fraction: the seeds of one cell of a table. */
export interface RecordGroup {
  method: Method;
  labelPct: number;
  records: RunRecord[];
}

/** Groups records by (method, label %), methods in the report order, label % descending. */
export function groupRecords(records: RunRecord[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>();
  for (const r of records) {
    const key = `${r.method}@${r.labelPct}`;
    let group = groups.get(key);
    if (!group) {
      group = { method: r.method, labelPct: r.labelPct, records: [] };
      groups.set(key, group);
    }
    group.records.push(r);
  }
  const order = orderMethods(records.map((r) => r.method));
  return [...groups.values()].sort((a, b) =>
    order.indexOf(a.method) - order.indexOf(b.method) || b.labelPct - a.labelPct);
}

/** Label fractions present in `records`, ascending. */
export function labelPercents(records: RunRecord[]): number[] {
  return [...new Set(records.map((r) => r.labelPct))].sort((a, b) => a - b);
}

/** Formats a summary as `mean ± std [low, high]` (no ± for a single run, no interval when none); `scale` turns fractions into %. */
export function formatSummary(s: Summary, digits = 1, scale = 1): string {
  if (s.n === 0 || Number.isNaN(s.mean)) return '–';
  const mean = (s.mean * scale).toFixed(digits);
  const spread = s.n === 1 ? mean : `${mean} ± ${(s.std * scale).toFixed(digits)}`;
  return s.ci ? `${spread} [${(s.ci[0] * scale).toFixed(digits)}, ${(s.ci[1] * scale).toFixed(digits)}]` : spread;
}

/** Bootstrap replicates per interval; the percentile interval's ends move by ~0.1 point between seeds of the resampling. */
export const BOOTSTRAP_REPLICATES = 2000;

/**
 * 95 % percentile bootstrap interval of a difference of seed means of test accuracy, `a` minus `b`
 * (pass `b` empty for the interval of `a` alone). Each replicate draws the test images with
 * replacement, the same images for every run (the runs share the test set, so the comparison is
 * paired over images), and the seeds of each side with replacement; with `pairedSeeds` one draw of
 * seed positions serves both sides (runs paired by seed, e.g. ablation arms sharing a pretraining
 * seed). The interval so covers the test-set sampling and the spread over seeds; with a single
 * seed it covers the test set only.
 * @param a per run, 1 per test image predicted right (all of one length)
 * @returns [low, high] as fractions, or null when the runs are missing or of different lengths
 */
export function bootstrapInterval(a: Uint8Array[], b: Uint8Array[] = [], options: { pairedSeeds?: boolean; replicates?: number; seed?: number } = {}): [number, number] | null {
  const runs = [...a, ...b];
  if (a.length === 0 || runs.some((r) => r.length !== runs[0].length || r.length === 0)) return null;
  if (options.pairedSeeds && a.length !== b.length) return null;
  const n = runs[0].length;
  const replicates = options.replicates ?? BOOTSTRAP_REPLICATES;
  const rng = new Rng(options.seed ?? 0x600757);
  const images = new Int32Array(n);
  const values = new Float64Array(replicates);
  const accuracy = (run: Uint8Array): number => {
    let right = 0;
    for (let i = 0; i < n; i++) right += run[images[i]];
    return right / n;
  };
  const drawSeeds = (count: number): number[] => Array.from({ length: count }, () => rng.int(count));
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) images[i] = rng.int(n);
    const seedsA = drawSeeds(a.length);
    const seedsB = options.pairedSeeds ? seedsA : drawSeeds(b.length);
    const meanA = seedsA.reduce((s, k) => s + accuracy(a[k]), 0) / seedsA.length;
    const meanB = b.length === 0 ? 0 : seedsB.reduce((s, k) => s + accuracy(b[k]), 0) / seedsB.length;
    values[r] = meanA - meanB;
  }
  values.sort();
  return [values[Math.floor(0.025 * (replicates - 1))], values[Math.ceil(0.975 * (replicates - 1))]];
}

/** The per-test-image flags of a record (`testCorrect`), or null when it has none. */
export function correctnessOf(record: RunRecord): Uint8Array | null {
  if (!record.testCorrect) return null;
  const count = record.confusion.reduce((s, row) => s + row.reduce((t, v) => t + v, 0), 0);
  return unpackBits(record.testCorrect, count);
}

/** Flags of every record, or an empty list when any lacks them (no interval then). */
export function correctnessOfAll(records: RunRecord[]): Uint8Array[] {
  const flags = records.map(correctnessOf);
  return flags.every((f): f is Uint8Array => f !== null) ? flags : [];
}

/** Test accuracy of a group of seeds in %: mean ± std with its 95 % bootstrap interval. */
export function accuracySummary(records: RunRecord[]): Summary {
  const s = summarise(records.map((r) => 100 * r.testAccuracy));
  const ci = bootstrapInterval(correctnessOfAll(records));
  return ci ? { ...s, ci: [100 * ci[0], 100 * ci[1]] } : s;
}
