import type { Method, RunRecord } from '../experiments/records';
import { orderMethods } from './style';

/** Mean, spread and count of one quantity over seeds. */
export interface Summary {
  mean: number;
  /** sample standard deviation (n - 1 in the denominator); 0 when n = 1 */
  std: number;
  n: number;
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

/** Formats a summary as `mean ± std` (no ± for a single run); `scale` turns fractions into %. */
export function formatSummary(s: Summary, digits = 1, scale = 1): string {
  if (s.n === 0 || Number.isNaN(s.mean)) return '–';
  const mean = (s.mean * scale).toFixed(digits);
  return s.n === 1 ? mean : `${mean} ± ${(s.std * scale).toFixed(digits)}`;
}
