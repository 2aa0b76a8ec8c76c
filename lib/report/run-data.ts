import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from '../experiments/records';
import type { PretrainSummary } from '../experiments/study';
import type { EpochRecord, RunHistory } from '../train/history';
import { UserError } from '../util/errors';

/** Everything the report reads for one preset: the records and the histories they point to. */
export interface ReportInputs {
  preset: string;
  resultsDir: string;
  records: RunRecord[];
  /** the pretraining runs (`pretraining.json`), empty when the study wrote none */
  pretraining: PretrainSummary[];
  /** history per run folder as written in the records and `pretraining.json` */
  histories: Map<string, RunHistory>;
}

/** Reads `<runDir>/history.jsonl` and `<runDir>/step-lr.json`; null when the folder has no history. */
export function readRunHistory(runDir: string): RunHistory | null {
  const historyFile = path.join(runDir, 'history.jsonl');
  if (!fs.existsSync(historyFile)) return null;
  const epochs = fs.readFileSync(historyFile, 'utf8').split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochRecord);
  const lrFile = path.join(runDir, 'step-lr.json');
  const stepLearningRates = fs.existsSync(lrFile) ? (JSON.parse(fs.readFileSync(lrFile, 'utf8')) as number[]) : [];
  return { epochs, stepLearningRates };
}

/** The pretraining runs of a study (`pretraining.json`), empty when there are none yet. */
export function readPretrainings(resultsDir: string): PretrainSummary[] {
  const file = path.join(resultsDir, 'pretraining.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as PretrainSummary[]) : [];
}

/** The pretraining runs with their histories, as curves for the pretraining and learning-rate figures. */
export function pretrainingCurves(resultsDir: string, root = process.cwd()): Array<{ summary: PretrainSummary; name: string; epochs: RunHistory['epochs']; stepLearningRates: number[] }> {
  return readPretrainings(resultsDir).flatMap((summary) => {
    const history = readRunHistory(path.resolve(root, summary.runDir));
    return history ? [{ summary, name: summary.name, epochs: history.epochs, stepLearningRates: history.stepLearningRates }] : [];
  });
}

/**
 * Loads `results/<preset>/records.json`, `pretraining.json` and every run history they name.
 * Run folders are resolved against `root` (the project root) when relative.
 */
export function loadReportInputs(resultsDir: string, preset: string, root = process.cwd()): ReportInputs {
  const recordsFile = path.join(resultsDir, 'records.json');
  if (!fs.existsSync(recordsFile)) {
    throw new UserError(`no results at ${recordsFile}: run \`cifar-ssl study --preset ${preset}\` first (or pass --results)`);
  }
  const records = JSON.parse(fs.readFileSync(recordsFile, 'utf8')) as RunRecord[];
  if (!Array.isArray(records) || records.length === 0) {
    throw new UserError(`${recordsFile} holds no runs: run \`cifar-ssl study --preset ${preset}\` first`);
  }
  const pretraining = readPretrainings(resultsDir);
  const histories = new Map<string, RunHistory>();
  for (const runDir of [...records.map((r) => r.runDir), ...pretraining.map((p) => p.runDir)]) {
    if (!runDir || histories.has(runDir)) continue;
    const history = readRunHistory(path.resolve(root, runDir));
    if (history) histories.set(runDir, history);
  }
  return { preset, resultsDir, records, pretraining, histories };
}
