import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import type { RunRecord } from './records';

const CSV_COLUMNS: Array<keyof RunRecord> = [
  'method', 'labelPct', 'seed', 'pretrainEpoch', 'preset', 'testAccuracy', 'macroPrecision', 'macroRecall', 'macroF1', 'valAccuracy',
  'selectedEpoch', 'epochsRun', 'realEpochs', 'epochsToBest', 'steps', 'imagesSeen', 'plateau', 'labelledCount', 'wallSeconds', 'imagesPerSecond', 'backend', 'configHash', 'runDir', 'dataFingerprint',
];

/** The records of one preset, kept as `records.json` (all fields) and `records.csv` (scalar fields). */
export class ResultsStore {
  readonly dir: string;
  private records: RunRecord[];

  constructor(dir: string) {
    this.dir = dir;
    const file = path.join(dir, 'records.json');
    this.records = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord[]) : [];
  }

  all(): RunRecord[] {
    return this.records.slice();
  }

  /** The record of a run with this method, label percentage, seed (and pretraining checkpoint) made under `configHash`, if any. */
  find(method: RunRecord['method'], labelPct: number, seed: number, configHash: string, pretrainEpoch?: number): RunRecord | undefined {
    return this.records.find((r) => sameRun(r, { method, labelPct, seed, pretrainEpoch }) && r.configHash === configHash);
  }

  /** Adds or replaces the record of (method, labelPct, seed, pretrainEpoch) and rewrites both files atomically. */
  put(record: RunRecord): void {
    this.records = this.records.filter((r) => !sameRun(r, record));
    this.records.push(record);
    this.records.sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : b.labelPct - a.labelPct || (a.pretrainEpoch ?? 0) - (b.pretrainEpoch ?? 0) || a.seed - b.seed));
    writeJsonAtomic(path.join(this.dir, 'records.json'), this.records);
    writeFileAtomic(path.join(this.dir, 'records.csv'), toCsv(this.records));
  }
}

function sameRun(a: Pick<RunRecord, 'method' | 'labelPct' | 'seed' | 'pretrainEpoch'>, b: Pick<RunRecord, 'method' | 'labelPct' | 'seed' | 'pretrainEpoch'>): boolean {
  return a.method === b.method && a.labelPct === b.labelPct && a.seed === b.seed && a.pretrainEpoch === b.pretrainEpoch;
}

function toCsv(records: RunRecord[]): string {
  const cell = (v: unknown): string => {
    const text = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [CSV_COLUMNS.join(','), ...records.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
