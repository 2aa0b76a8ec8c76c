/**
 * The fused SGD update (packages/tfjs-backend-onnx/src/ops/fused-sgd.ts) that SgdOptimizer uses on the onnx backend gives
 * the bits of the composed tf ops it replaces, which the cpu backend (no such kernel) runs: every
 * combination of momentum, Nesterov and weight decay, over a few steps, on a vector with zeros of
 * both signs, tiny and huge values and a NaN. Skipped when onnxruntime-node cannot load.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { hasFusedSgd, SGD_UPDATE, kernelTimings, resetKernelTimings, onnxUnavailableReason } from 'tfjs-backend-onnx';
import { selectBackend } from '../lib/backend/select';
import { sgdCosine } from '../lib/config/defaults';
import type { OptimizerConfig } from '../lib/config/types';
import { makeOptimizer } from '../lib/optim/optimizer';
import { Rng } from '../lib/util/random';
import { assertSameBits } from './helpers/bits';

/** Large enough for the onnx backend's SIMD element-wise path (4096 floats and up), plus a short one. */
const SIZES = { 'conv.kernel': 5003, 'bn.gamma': 7 };
const SPECIAL = [0, -0, 1e-30, -1e30, Number.NaN, 3.4e38];

function values(size: number, rng: Rng, scale: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (rng.next() * 2 - 1) * scale;
  out.set(SPECIAL.slice(0, Math.min(size, SPECIAL.length)));
  return out;
}

/** Parameters (and momentum slots) after three steps with fixed gradients on `backend`. */
async function threeSteps(backend: 'cpu' | 'onnx', config: OptimizerConfig): Promise<Float32Array[]> {
  await selectBackend(backend);
  const rng = new Rng(5);
  const params = new Map(Object.entries(SIZES).map(([name, size]) => [name, tf.variable(tf.tensor1d(values(size, rng, 2)))]));
  const opt = makeOptimizer(config, params);
  for (let step = 0; step < 3; step++) {
    const grads = new Map(Object.entries(SIZES).map(([name, size]) => [name, tf.tensor1d(values(size, rng, 0.5))]));
    opt.applyGradients(grads, 0.1 * (step + 1));
    for (const g of grads.values()) g.dispose();
  }
  const out = [...params.values(), ...opt.slots.values()].map((v) => v.dataSync() as Float32Array);
  opt.dispose();
  for (const p of params.values()) p.dispose();
  return out;
}

describe('fused SGD update', { skip: onnxUnavailableReason() }, () => {
  const base: OptimizerConfig = { ...sgdCosine, kind: 'sgd', decayExcludesNormAndBias: true };
  const cases: Array<[string, Partial<OptimizerConfig>]> = [
    ['plain SGD with weight decay', { momentum: 0, nesterov: false, weightDecay: 5e-4 }],
    ['momentum, no weight decay', { momentum: 0.9, nesterov: false, weightDecay: 0 }],
    ['momentum and weight decay', { momentum: 0.9, nesterov: false, weightDecay: 5e-4 }],
    ['Nesterov momentum and weight decay', { momentum: 0.9, nesterov: true, weightDecay: 5e-4 }],
  ];
  for (const [name, overrides] of cases) {
    test(`${name}: the onnx backend's fused kernel gives the composed ops' bits`, async () => {
      const config = { ...base, ...overrides };
      const expected = await threeSteps('cpu', config);
      resetKernelTimings();
      const actual = await threeSteps('onnx', config);
      assert.ok(hasFusedSgd(), 'the onnx backend has the kernel');
      assert.equal(kernelTimings().find((k) => k.kernelName === SGD_UPDATE)?.calls, 3 * Object.keys(SIZES).length, 'one kernel call per parameter and step');
      actual.forEach((a, i) => assertSameBits(a, expected[i], `tensor ${i}`));
    });
  }

  test('a kernel given mismatched shapes says so', async () => {
    await selectBackend('onnx');
    const [w, g] = [tf.zeros([4]), tf.zeros([5])];
    assert.throws(() => tf.engine().runKernel(SGD_UPDATE, { w, g }, { learningRate: 0.1, momentum: 0, weightDecay: 0, nesterov: false }), /one shape/);
    tf.dispose([w, g]);
  });
});
