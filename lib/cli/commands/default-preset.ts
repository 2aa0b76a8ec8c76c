import type { PresetName } from '../../config/presets';

/**
 * The preset a command uses when none is named: `paper` when a GPU build of TensorFlow.js is
 * installed (tfjs-node-gpu), `quick` otherwise. Checked without loading the package.
 */
export function defaultPresetName(): PresetName {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
    return 'paper';
  } catch {
    return 'quick';
  }
}
