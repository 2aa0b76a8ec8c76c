import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ntXent, ntXentLoss } from '../lib/losses/nt-xent';
import { Rng } from '../lib/util/random';

before(async () => {
  await tf.setBackend('cpu');
});

function randomRows(n: number, d: number, rng: Rng): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

/** NT-Xent written out with loops over plain numbers (SimCLR eq. 1, averaged over all 2N anchors). */
function naiveNtXent(z1: number[][], z2: number[][], tau: number): number {
  const rows = [...z1, ...z2].map((r) => {
    const norm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / norm);
  });
  const n = z1.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const positive = (i + n) % (2 * n);
    let denominator = 0;
    for (let k = 0; k < 2 * n; k++) if (k !== i) denominator += Math.exp(dot(rows[i], rows[k]) / tau);
    total += -Math.log(Math.exp(dot(rows[i], rows[positive]) / tau) / denominator);
  }
  return total / (2 * n);
}

function lossOf(z1: number[][], z2: number[][], tau: number): number {
  return tf.tidy(() => ntXentLoss(tf.tensor2d(z1), tf.tensor2d(z2), tau).dataSync()[0]);
}

test('matches a naive double-loop reference for several batch sizes', () => {
  const rng = new Rng(1);
  for (const n of [1, 2, 3, 8]) {
    for (const tau of [0.5, 0.1]) {
      const z1 = randomRows(n, 5, rng);
      const z2 = randomRows(n, 5, rng);
      const expected = naiveNtXent(z1, z2, tau);
      const actual = lossOf(z1, z2, tau);
      assert.ok(Math.abs(actual - expected) < 1e-4 * Math.max(1, expected), `N=${n} tau=${tau}: ${actual} vs ${expected}`);
    }
  }
});

test('is symmetric in the two views', () => {
  const rng = new Rng(2);
  const z1 = randomRows(6, 4, rng);
  const z2 = randomRows(6, 4, rng);
  assert.ok(Math.abs(lossOf(z1, z2, 0.5) - lossOf(z2, z1, 0.5)) < 1e-5);
});

test('equals log(2N - 1) when all projections coincide, and 0 for N = 1', () => {
  for (const n of [1, 2, 4, 16]) {
    const same = Array.from({ length: n }, () => [0.3, -1, 2]);
    const actual = lossOf(same, same, 0.2);
    assert.ok(Math.abs(actual - Math.log(2 * n - 1)) < 1e-5, `N=${n}: ${actual} vs ${Math.log(2 * n - 1)}`);
  }
  const rng = new Rng(3);
  assert.ok(Math.abs(lossOf(randomRows(1, 8, rng), randomRows(1, 8, rng), 0.1)) < 1e-6);
});

test('stays finite, with finite gradients, for large projections, a zero row and a small temperature', () => {
  const rng = new Rng(4);
  const z1 = randomRows(5, 8, rng).map((r) => r.map((v) => v * 1e3));
  const z2 = randomRows(5, 8, rng);
  z2[0] = z2[0].map(() => 0);
  const [loss, grads] = tf.tidy(() => {
    const a = tf.tensor2d(z1);
    const b = tf.tensor2d(z2);
    const { value, grads } = tf.valueAndGrads((p: tf.Tensor, q: tf.Tensor) => ntXentLoss(p as tf.Tensor2D, q as tf.Tensor2D, 0.01))([a, b]);
    return [value.dataSync()[0], grads.map((g) => Array.from(g.dataSync()))];
  });
  assert.ok(Number.isFinite(loss));
  for (const g of grads) assert.ok(g.every(Number.isFinite));
});

test('positive accuracy is 1 when each view is nearest its partner, and nothing leaks', () => {
  const rng = new Rng(5);
  const z1 = randomRows(8, 16, rng);
  const z2 = z1.map((r) => r.map((v) => v + 0.01 * rng.normal()));
  const before = tf.memory().numTensors;
  const result = ntXent(tf.tensor2d(z1), tf.tensor2d(z2), 0.5);
  assert.equal(result.positiveAccuracy.dataSync()[0], 1);
  tf.dispose([result.loss, result.positiveAccuracy]);
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      ntXentLoss(tf.tensor2d(z1), tf.tensor2d(z2), 0.5);
    });
  }
  // the two input tensors of the ntXent call above were not disposed
  assert.equal(tf.memory().numTensors, before + 2);
});
