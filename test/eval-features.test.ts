import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { CifarSplit } from '../lib/data/load';
import { embeddingStd } from '../lib/eval/collapse';
import { extractFeatures } from '../lib/eval/features';
import type { Encoder } from '../lib/models/types';
import { Rng } from '../lib/util/random';

/** Five images, image i filled with the value 50 i; labels 9 - i. */
function tinySplit(): CifarSplit {
  const images = new Uint8Array(5 * 32 * 32 * 3);
  for (let i = 0; i < 5; i++) images.fill(50 * i, i * 3072, (i + 1) * 3072);
  return { images, labels: Uint8Array.from([9, 8, 7, 6, 5]), count: 5 };
}

/** Features = mean of each colour channel; records the `training` flags it was called with. */
function channelMeanEncoder(): Encoder & { trainingFlags: boolean[] } {
  const trainingFlags: boolean[] = [];
  return {
    description: 'channel mean', spec: {}, trainable: new Map(), state: new Map(), featureDim: 3, trainingFlags,
    apply(x: tf.Tensor, training: boolean) {
      trainingFlags.push(training);
      return x.mean([1, 2]); // [B, 3]
    },
    dispose() {},
  };
}

test('features come back in index order, scaled to [0, 1], with their labels, in inference mode', () => {
  const encoder = channelMeanEncoder();
  const before = tf.memory().numTensors;
  const out = extractFeatures(encoder, tinySplit(), Int32Array.from([4, 0, 2]), 2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(out.dim, 3);
  assert.deepEqual(out.labels, Int32Array.from([5, 9, 7]));
  const expected = [200, 200, 200, 0, 0, 0, 100, 100, 100].map((v) => v / 255);
  Array.from(out.features).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${out.features}`));
  assert.deepEqual(encoder.trainingFlags, [false, false]); // two batches (2 + 1), batch norm on running statistics
});

test('the batch size does not change the features', () => {
  const rows = Int32Array.from([3, 1, 4, 0, 2]);
  const a = extractFeatures(channelMeanEncoder(), tinySplit(), rows, 1);
  const b = extractFeatures(channelMeanEncoder(), tinySplit(), rows, 5);
  assert.deepEqual(a, b);
  assert.throws(() => extractFeatures(channelMeanEncoder(), tinySplit(), Int32Array.from([5]), 1), /outside the split/);
});

test('embedding std: 0 when collapsed, hand value for one-hot rows, about 1/sqrt(D) when spread out', () => {
  const collapsed = tf.tensor2d([[1, 2, 3], [1, 2, 3], [2, 4, 6]]); // same direction, different lengths
  assert.ok(Math.abs(embeddingStd(collapsed)) < 1e-6);
  // Each column holds one 1 and three 0s: population std sqrt(0.25 * 0.75) = 0.4330127
  const oneHot = tf.eye(4) as tf.Tensor2D;
  assert.ok(Math.abs(embeddingStd(oneHot) - Math.sqrt(0.1875)) < 1e-6);
  const rng = new Rng(3);
  const spread = tf.tensor2d(Array.from({ length: 2000 * 64 }, () => rng.normal()), [2000, 64]);
  const before = tf.memory().numTensors;
  const std = embeddingStd(spread);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(std - 1 / 8) < 0.01, `${std}`);
  tf.dispose([collapsed, oneHot, spread]);
});
