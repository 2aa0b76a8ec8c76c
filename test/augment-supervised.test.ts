import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { supervisedAugment } from '../lib/augment/supervised';
import { UsageError } from '../lib/util/errors';
import { Rng } from '../lib/util/random';

before(async () => {
  await tf.setBackend('cpu');
});

const [B, H, W, C] = [4, 6, 5, 3];

function randomImages(seed: number): { data: Float32Array; x: tf.Tensor4D } {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: B * H * W * C }, () => rng.next());
  return { data, x: tf.tensor4d(data, [B, H, W, C]) };
}

/** Zero-padded shifted crop and flip written pixel by pixel, drawing as supervisedAugment does. */
function naiveAugment(data: Float32Array, padding: number, flipP: number, rng: Rng): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const top = rng.int(2 * padding + 1) - padding;
    const left = rng.int(2 * padding + 1) - padding;
    const flip = rng.bernoulli(flipP);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sy = y + top;
        const sx = (flip ? W - 1 - x : x) + left;
        for (let c = 0; c < C; c++) {
          out.push(sy >= 0 && sy < H && sx >= 0 && sx < W ? data[((b * H + sy) * W + sx) * C + c] : 0);
        }
      }
    }
  }
  return out;
}

test('padded random crop and flip match a pixel-by-pixel reference', () => {
  const { data, x } = randomImages(1);
  for (const [padding, flipP] of [[2, 0.5], [4, 1], [1, 0]]) {
    const out = supervisedAugment(x, { padding, flipP }, new Rng(9));
    assert.deepEqual(out.shape, [B, H, W, C]);
    const actual = out.dataSync();
    // cropResize keeps a 1e-4-pixel margin from box edges, hence the tolerance
    naiveAugment(data, padding, flipP, new Rng(9)).forEach((v, i) => assert.ok(Math.abs(actual[i] - v) < 2e-4, `value ${i}: ${actual[i]} vs ${v}, padding ${padding}`));
    out.dispose();
  }
  x.dispose();
});

test('no padding and no flip leave images unchanged; seeds repeat; nothing leaks', () => {
  const { data, x } = randomImages(2);
  const before = tf.memory().numTensors;
  const same = supervisedAugment(x, { padding: 0, flipP: 0 }, new Rng(0));
  assert.deepEqual(same.dataSync(), data);
  const mirrored = supervisedAugment(x, { padding: 0, flipP: 1 }, new Rng(0));
  const expected = tf.reverse(x, 2);
  assert.deepEqual(mirrored.dataSync(), expected.dataSync());
  tf.dispose([mirrored, expected]);
  const a = supervisedAugment(x, { padding: 4, flipP: 0.5 }, new Rng(3));
  const b = supervisedAugment(x, { padding: 4, flipP: 0.5 }, new Rng(3));
  assert.deepEqual(a.dataSync(), b.dataSync());
  tf.dispose([same, a, b]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => supervisedAugment(x, { padding: -1, flipP: 0 }, new Rng(0)), UsageError);
  x.dispose();
});
