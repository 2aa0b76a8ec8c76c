import type { PresetName } from '../../config/presets';

/** The preset `npm start` and every command run when none is named. */
export const DEFAULT_PRESET: PresetName = 'quick';

/**
 * The preset a command uses when none is named: `quick`, minutes wherever it runs. The GPU
 * presets are never a default, whatever backend loads: `gpu` takes hours and `paper` days, and a
 * laptop's integrated GPU is a hardware adapter like any other (docs/gpu.md).
 */
export function defaultPresetName(): PresetName {
  return DEFAULT_PRESET;
}
