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
}

/**
 * Everything a notebook needs to run or read one step of the study: the preset (from
 * CIFAR_SSL_PRESET unless named), the backend, the data and splits, and the study's steps with
 * plain-line progress (notebook outputs are not terminals). Same folders as `cifar-ssl study`.
 */
export async function openStudy(presetName = process.env.CIFAR_SSL_PRESET ?? NOTEBOOK_DEFAULT_PRESET, backend?: BackendName): Promise<StudySession> {
  const preset = getPreset(presetName);
  const context = await prepareContext(preset.data, backend);
  const study = createStudy({
    preset,
    context,
    resultsRoot: 'results',
    runsRoot: 'runs',
    hooks: (label) => progressHooks(label, (line) => console.log(line), false),
    log: (line) => console.log(line),
  });
  return { preset, context, study };
}
