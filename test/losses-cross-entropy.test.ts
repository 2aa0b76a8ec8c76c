import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '../lib/losses/cross-entropy';

before(async () => {
  await tf.setBackend('cpu');
});

function naiveCrossEntropy(logits: number[][], labels: number[]): number {
  let total = 0;
  logits.forEach((row, i) => {
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += logSum - row[labels[i]];
  });
  return total / logits.length;
}

test('matches a reference, including large logits', () => {
  const logits = [[1, 2, 3], [0.5, -1, 0], [300, -200, 299], [0, 0, 0]];
  const labels = [2, 0, 1, 1];
  const actual = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32')).dataSync()[0]);
  const expected = naiveCrossEntropy(logits, labels);
  assert.ok(Math.abs(actual - expected) < 1e-4 * expected, `${actual} vs ${expected}`);
});

test('gradient is (softmax - one-hot) / B', () => {
  const logits = [[1, 2, 3], [0.5, -1, 0]];
  const labels = [2, 0];
  const grad = tf.tidy(() =>
    Array.from(tf.grad((x: tf.Tensor) => softmaxCrossEntropy(x as tf.Tensor2D, tf.tensor1d(labels, 'int32')))(tf.tensor2d(logits)).dataSync()),
  );
  logits.forEach((row, i) => {
    const sum = row.reduce((s, v) => s + Math.exp(v), 0);
    row.forEach((v, c) => {
      const expected = (Math.exp(v) / sum - (c === labels[i] ? 1 : 0)) / logits.length;
      assert.ok(Math.abs(grad[i * 3 + c] - expected) < 1e-6);
    });
  });
});
