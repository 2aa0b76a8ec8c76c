/**
 * The study's layers on the onnx backend: the batch-norm layer (lib/models/layers.ts), which takes
 * the backend's fused training kernels where they exist, updates its running statistics as on the
 * cpu backend, which composes the same step from tf ops. Skipped when onnxruntime-node cannot load.
 */
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ONNX_BACKEND_NAME, onnxUnavailableReason, registerOnnxBackend } from 'tfjs-backend-onnx';
import { batchNorm, disposeVariables, emptyVariables } from '../lib/models/layers';
import { Rng } from '../lib/util/random';
import { assertCloseToCpu } from './helpers/close';

const skip = onnxUnavailableReason(() => registerOnnxBackend({ threads: 2 }));

/** max |onnx − cpu| allowed, as a fraction of max |cpu| */
const TOLERANCE = 1e-4;

describe('the study\'s layers on the onnx backend', { skip }, () => {
  test('the batch-norm layer updates its running statistics as on the cpu backend', async () => {
    const rng = new Rng(16);
    const shape = [6, 5, 5, 8];
    const x = Float32Array.from({ length: 6 * 5 * 5 * 8 }, () => rng.normal());
    const runningStats = async (backend: string) => {
      await tf.setBackend(backend);
      const vars = emptyVariables();
      const layer = batchNorm(vars, 'bn', 8);
      tf.tidy(() => layer(tf.tensor(x, shape).add(2), true, 'relu'));
      const stats = ['bn.runningMean', 'bn.runningVar'].map((name) => vars.state.get(name)?.dataSync() as Float32Array);
      disposeVariables(vars);
      return stats;
    };
    const expected = await runningStats('cpu');
    const actual = await runningStats(ONNX_BACKEND_NAME);
    expected.forEach((e, i) => assertCloseToCpu(actual[i], e, TOLERANCE, i === 0 ? 'running mean' : 'running variance', { backend: 'onnx' }));
  });
});
