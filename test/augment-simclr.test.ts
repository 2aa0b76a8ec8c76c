import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { simclrPairsPreview } from '../lib/augment/preview';
import { sampleResizedCrop, simclrView, simclrViews } from '../lib/augment/simclr';
import { simclrAugment } from '../lib/config/defaults';
import type { SimclrAugmentConfig } from '../lib/config/types';
import { UsageError } from '../lib/util/errors';
import { Rng } from '../lib/util/random';

before(async () => {
  await tf.setBackend('cpu');
});

const identity: SimclrAugmentConfig = {
  ...simclrAugment,
  cropScale: [1, 1],
  cropRatio: [1, 1],
  flipP: 0,
  colorJitter: { ...simclrAugment.colorJitter, p: 0 },
  grayscaleP: 0,
  blurP: 0,
};

function randomImages(b: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * 32 * 32 * 3 }, () => rng.next()), [b, 32, 32, 3]);
}

const valuesOf = (t: tf.Tensor) => Array.from(t.dataSync());

test('views have the crop size and stay in [0, 1], with and without blur', () => {
  const x = randomImages(4, 1);
  for (const config of [simclrAugment, { ...simclrAugment, cropSize: 24, blurP: 1, colorJitter: { ...simclrAugment.colorJitter, p: 1, brightness: 0.9 } }]) {
    const view = simclrView(x, config, new Rng(0));
    assert.deepEqual(view.shape, [4, config.cropSize, config.cropSize, 3]);
    assert.ok(valuesOf(view).every((v) => v >= 0 && v <= 1));
    view.dispose();
  }
  x.dispose();
});

test('probability 0 everywhere and a full-scale crop leave images unchanged', () => {
  const x = randomImages(3, 2);
  const [a, b] = simclrViews(x, identity, new Rng(0));
  assert.deepEqual(valuesOf(a), valuesOf(x));
  assert.deepEqual(valuesOf(b), valuesOf(x));
  tf.dispose([x, a, b]);
});

test('the same seed gives the same views; another seed and the second view differ', () => {
  const x = randomImages(4, 3);
  const [a1, a2] = simclrViews(x, simclrAugment, new Rng(7));
  const [b1, b2] = simclrViews(x, simclrAugment, new Rng(7));
  const [c1] = simclrViews(x, simclrAugment, new Rng(8));
  assert.deepEqual(valuesOf(a1), valuesOf(b1));
  assert.deepEqual(valuesOf(a2), valuesOf(b2));
  assert.notDeepEqual(valuesOf(a1), valuesOf(c1));
  assert.notDeepEqual(valuesOf(a1), valuesOf(a2));
  tf.dispose([x, a1, a2, b1, b2, c1]);
});

test('grayscale p = 1 gives equal channels; flip p = 1 mirrors the image', () => {
  const x = randomImages(2, 4);
  const gray = simclrView(x, { ...identity, grayscaleP: 1 }, new Rng(0));
  const g = valuesOf(gray);
  for (let i = 0; i < g.length; i += 3) assert.ok(g[i] === g[i + 1] && g[i] === g[i + 2]);
  const flipped = simclrView(x, { ...identity, flipP: 1 }, new Rng(0));
  const expected = tf.reverse(x, 2);
  assert.deepEqual(valuesOf(flipped), valuesOf(expected));
  tf.dispose([x, gray, flipped, expected]);
});

test('resized crops follow the scale and ratio ranges, and fall back to a centre crop', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 500; i++) {
    const box = sampleResizedCrop(32, 32, [0.08, 1], [3 / 4, 4 / 3], rng);
    assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 32 && box.left + box.width <= 32);
    const area = (box.height * box.width) / 1024;
    assert.ok(area > 0.05 && area <= 1, `area ${area}`);
  }
  // A ratio of 4-5 cannot fit a 90% area in a square image: every try fails.
  assert.deepEqual(sampleResizedCrop(32, 32, [0.9, 1], [4, 5], rng), { top: 12, left: 0, height: 8, width: 32 });
});

test('bad settings are UsageErrors; repeated views leave no tensors behind', () => {
  const x = randomImages(2, 6);
  assert.throws(() => simclrView(x, { ...simclrAugment, flipP: 2 }, new Rng(0)), UsageError);
  assert.throws(() => simclrView(x, { ...simclrAugment, cropScale: [0.5, 0.1] }, new Rng(0)), UsageError);
  assert.throws(() => simclrView(x, { ...simclrAugment, blurKernel: 4 }, new Rng(0)), UsageError);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(simclrViews(x, { ...simclrAugment, blurP: 0.5 }, new Rng(i)));
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test('preview gives 8-bit originals and two views per image', () => {
  const x = randomImages(3, 7);
  const { originals, views1, views2 } = simclrPairsPreview(x, simclrAugment, new Rng(0));
  for (const batch of [originals, views1, views2]) {
    assert.equal(batch.pixels.length, 3 * 32 * 32 * 3);
    assert.deepEqual([batch.height, batch.width, batch.channels], [32, 32, 3]);
  }
  assert.equal(originals.pixels[0], Math.round(x.dataSync()[0] * 255));
  x.dispose();
});
