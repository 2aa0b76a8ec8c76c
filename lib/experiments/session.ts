import * as path from 'node:path';
import { getPreset, type StudyPreset } from '../config/presets';
import type { BackendName } from '../config/types';
import { progressHooks } from '../train/progress';
import { type RunContext, prepareContext } from './context';
import { type Study, createStudy } from './study';

/** The preset a notebook runs: CIFAR_SSL_PRESET, else the documented real run. */
export const NOTEBOOK_DEFAULT_PRESET = 'quick';

export interface StudySession {
  preset: StudyPreset;
  context: RunContext;
  study: Study;
  /** where this preset's records, histories and summaries go (resultsDirFor) */
  resultsDir: string;
}

/**
 * Roots of the study's results and checkpoints for notebooks: CIFAR_SSL_RESULTS and
 * CIFAR_SSL_RUNS (what `cifar-ssl notebooks --results/--runs` set), else the folders the
 * `study` command uses by default. Tests point them at temporary folders.
 */
export function studyRoots(env: NodeJS.ProcessEnv = process.env): { resultsRoot: string; runsRoot: string } {
  return { resultsRoot: env.CIFAR_SSL_RESULTS || 'results', runsRoot: env.CIFAR_SSL_RUNS || 'runs' };
}

/** The results folder of one preset, under studyRoots().resultsRoot. */
export function resultsDirFor(presetName: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(studyRoots(env).resultsRoot, presetName);
}

/**
 * Everything a notebook needs to run or read one step of the study: the preset (from
 * CIFAR_SSL_PRESET unless named), the backend, the data and splits, and the study's steps with
 * plain-line progress (notebook outputs are not terminals). Same folders as `cifar-ssl study`
 * unless CIFAR_SSL_RESULTS / CIFAR_SSL_RUNS say otherwise (studyRoots).
 */
export async function openStudy(presetName = process.env.CIFAR_SSL_PRESET ?? NOTEBOOK_DEFAULT_PRESET, backend?: BackendName): Promise<StudySession> {
  const preset = getPreset(presetName);
  const context = await prepareContext(preset.data, backend);
  const { resultsRoot, runsRoot } = studyRoots();
  const study = createStudy({
    preset,
    context,
    resultsRoot,
    runsRoot,
    hooks: (label) => progressHooks(label, (line) => console.log(line), false),
    log: (line) => console.log(line),
  });
  return { preset, context, study, resultsDir: resultsDirFor(preset.name) };
}
