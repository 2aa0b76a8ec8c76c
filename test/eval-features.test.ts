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

test('probe features are standardised with the labelled rows\' statistics, and other rows with the same map', async () => {
  const { standardizer } = await import('../lib/train/supervised');
  // two dimensions: mean 2, std 1; mean -10, std 4
  const reference = Float32Array.from([1, -14, 3, -6, 1, -6, 3, -14]);
  const standardize = standardizer(reference, 2);
  const out = standardize(reference.slice());
  for (const j of [0, 1]) {
    const column = [0, 1, 2, 3].map((i) => out[i * 2 + j]);
    const mean = column.reduce((s, v) => s + v, 0) / 4;
    const variance = column.reduce((s, v) => s + (v - mean) ** 2, 0) / 4;
    assert.ok(Math.abs(mean) < 1e-6 && Math.abs(variance - 1) < 1e-4, `dimension ${j}: mean ${mean}, variance ${variance}`);
  }
  const other = standardize(Float32Array.from([2, -10, 4, -2]));
  assert.deepEqual(Array.from(other).map((v) => Number(v.toFixed(4))), [0, 0, 2, 2], 'the reference mean maps to 0, one reference std to 1');
  assert.deepEqual(Array.from(standardizer(Float32Array.from([5, 5]), 1)(Float32Array.from([5, 6]))).map((v) => Math.round(v)), [0, 1000], 'a constant dimension divides by sqrt(1e-6), not 0');
});

test('the feature cache addresses rows by data-set index, and kNN on it classifies the test set from the labelled bank', async () => {
  const { toyContext } = await import('./helpers/toy-data');
  const { computeFeatureCache, gatherFeatures } = await import('../lib/eval/feature-cache');
  const { knnTestReport } = await import('../lib/experiments/knn-eval');
  const data = toyContext({ trainPerClass: 12, testPerClass: 3, validationPerClass: 2 });
  // Features that give the class away: a one-hot of the label, found through the image's mean pixel.
  const labelOf = new Map<number, number>();
  const meanOf = (split: CifarSplit, row: number): number => split.images.subarray(row * 3072, (row + 1) * 3072).reduce((s, v) => s + v, 0) / 3072;
  for (const [split, rows] of [[data.dataset.train, data.dataset.train.count], [data.dataset.test, data.dataset.test.count]] as const) {
    for (let r = 0; r < rows; r++) labelOf.set(Math.round(meanOf(split, r) * 1e4), split.labels[r]);
  }
  const oracle: Encoder = {
    description: 'oracle', spec: {}, trainable: new Map(), state: new Map(), featureDim: 10, dispose() {},
    apply: (x: tf.Tensor) => tf.tidy(() => {
      const means = (x.mean([1, 2, 3]).mul(255).dataSync());
      return tf.oneHot(Array.from(means, (m) => labelOf.get(Math.round(m * 1e4)) ?? 0), 10).toFloat();
    }),
  };
  const before = tf.memory().numTensors;
  const cache = computeFeatureCache(oracle, data);
  const row = data.splits.trainPool[5];
  assert.deepEqual(Array.from(gatherFeatures(cache.train, 10, [row])).indexOf(1), data.dataset.train.labels[row], 'row r of the cache is image r');
  const labelled = data.splits.labelled(0.5, 0);
  const { report, correct, k, valAccuracy, grid } = knnTestReport(cache, data, labelled, { temperature: 0.1 });
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal(report.accuracy, 1, 'class-revealing features classify every test image');
  assert.equal(report.confusion.flat().reduce((s, v) => s + v, 0), data.splits.test.length);
  assert.ok(correct.every((c) => c === 1));
  assert.equal(labelled.length, 50);
  assert.deepEqual(grid.map((g) => g.k), [10, 20, 50], 'k = 100 and 200 capped at the 50-image bank');
  assert.equal(k, 10, 'ties go to the smallest k');
  assert.equal(valAccuracy, 1);
});
