import * as fs from 'node:fs';
import * as path from 'node:path';

/** `results/<preset>/study.json`: what the study command records about a whole study. */
export interface StudyMeta {
  preset: string;
  description: string;
  /** false while the study has not finished (absent in files written before the field existed) */
  complete?: boolean;
  backend: string;
  dataFingerprint: string;
  runs: number;
  /** wall time of all study sessions that produced these results (a resumed study adds up) */
  wallSeconds: number;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  presetConfig: unknown;
}

export const STUDY_META_FILE = 'study.json';

/** The study.json of a results folder, or null when the study has not recorded one yet. */
export function readStudyMeta(resultsDir: string): StudyMeta | null {
  const file = path.join(resultsDir, STUDY_META_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as StudyMeta) : null;
}
