/**
 * The fused residual add + ReLU (packages/tfjs-backend-onnx/src/ops/fused-add-relu.ts) that the ResNet blocks use on the
 * onnx backend gives the bits of relu(add(a, b)) on the same backend, forward and in both input
 * gradients: in the SIMD arena (large tensors) and through the fallback (small ones), on values
 * with zeros of both signs, infinities and NaN. Skipped when onnxruntime-node cannot load.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU, fusedAddRelu, hasFusedAddRelu, RELU_GRAD, kernelTimings, resetKernelTimings, onnxUnavailableReason } from 'tfjs-backend-onnx';
import { selectBackend } from '../lib/backend/select';
import { Rng } from '../lib/util/random';
import { assertSameBits } from './helpers/bits';

const SPECIAL = [0, -0, Number.NaN, Infinity, -Infinity, -1e-40, 1e-40, -3, 3];

function values(shape: number[], rng: Rng): tf.Tensor {
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  // every pairing of special values in a and b shows up somewhere
  for (let i = 0; i < out.length; i++) if (rng.next() < 0.05) out[i] = SPECIAL[rng.int(SPECIAL.length)];
  return tf.tensor(out, shape);
}

/** y and the gradients in a and b of sum(y * weights). */
function withGradients(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor, weights: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const y = f(a, b);
    const [da, db] = tf.grads((x1: tf.Tensor, x2: tf.Tensor) => f(x1, x2).mul(weights).sum())([a, b]);
    return [y, da, db].map((t) => t.dataSync() as Float32Array);
  });
}

describe('fused residual add + ReLU', { skip: onnxUnavailableReason() }, () => {
  for (const [name, shape] of [['in the SIMD arena', [4, 16, 16, 20]], ['through the fallback (small tensors)', [2, 3, 5]]] as const) {
    test(`${name}: forward and both gradients match relu(add(a, b)) bit for bit`, async () => {
      await selectBackend('onnx');
      assert.ok(hasFusedAddRelu());
      const rng = new Rng(3);
      const [a, b, weights] = [values([...shape], rng), values([...shape], rng), values([...shape], rng)];
      const expected = withGradients((x1, x2) => tf.relu(tf.add(x1, x2)), a, b, weights);
      resetKernelTimings();
      const actual = withGradients((x1, x2) => fusedAddRelu(x1, x2), a, b, weights);
      const calls = (kernel: string) => kernelTimings().find((k) => k.kernelName === kernel)?.calls ?? 0;
      assert.ok(calls(ADD_RELU) > 0 && calls(RELU_GRAD) > 0, 'the fused kernels ran');
      ['y', 'da', 'db'].forEach((what, i) => assertSameBits(actual[i], expected[i], what));
      tf.dispose([a, b, weights]);
    });
  }

  test('inputs of two shapes are refused with a message', async () => {
    await selectBackend('onnx');
    const [a, b] = [tf.zeros([4, 4]), tf.zeros([4, 5])];
    assert.throws(() => tf.engine().runKernel(ADD_RELU, { a, b }), /one shape/);
    tf.dispose([a, b]);
  });
});
