import type { PresetName } from '../../config/presets';

/** The preset `npm start` and every command run when none is named. */
export const DEFAULT_PRESET: PresetName = 'quick';

/**
 * The preset a command uses when none is named: `quick`, which finishes in minutes wherever it
 * runs. Longer presets (`cpu`, `paper`) are always asked for by name: the backend that loads says
 * nothing about how fast it is (an integrated laptop GPU must not start a multi-day run).
 */
export function defaultPresetName(): PresetName {
  return DEFAULT_PRESET;
}
