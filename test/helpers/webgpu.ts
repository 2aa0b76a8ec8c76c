import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend/select';

/**
 * Why the webgpu backend cannot run here (no `webgpu` package, no Vulkan, no adapter), or null
 * when it can: selects it as `--backend webgpu` would (a software adapter is accepted), then
 * puts back the backend that was current.
 */
export async function webgpuSkipReason(): Promise<string | null> {
  const previous = tf.getBackend();
  try {
    await selectBackend('webgpu');
    return null;
  } catch (error) {
    return `no WebGPU here: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    if (previous) await tf.setBackend(previous);
  }
}
