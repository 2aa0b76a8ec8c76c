import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type CifarSplit, batchCount, gatherBatch, iterateBatches } from '../lib/data';

/** Seven images; image i has pixel (y, x, c) = (i * 30 + y + x + c) mod 256, label 9 - i. */
function split(): CifarSplit {
  const images = new Uint8Array(7 * 3072);
  for (let i = 0; i < 7; i++) {
    for (let p = 0; p < 3072; p++) {
      const c = p % 3;
      const x = Math.floor(p / 3) % 32;
      const y = Math.floor(p / 96);
      images[i * 3072 + p] = (i * 30 + y + x + c) % 256;
    }
  }
  return { images, labels: Uint8Array.from([9, 8, 7, 6, 5, 4, 3]), count: 7 };
}

test('batchCount with and without the short last batch', () => {
  assert.equal(batchCount(10, 4, false), 3);
  assert.equal(batchCount(10, 4, true), 2);
  assert.equal(batchCount(8, 4, true), 2);
  assert.equal(batchCount(0, 4, false), 0);
  assert.throws(() => batchCount(10, 0, false), RangeError);
});

test('gatherBatch: [B, 32, 32, 3] float32 in [0, 1] and int32 labels, in the order asked', () => {
  const data = split();
  const { x, y } = gatherBatch(data, [5, 0, 5]);
  assert.deepEqual(x.shape, [3, 32, 32, 3]);
  assert.equal(x.dtype, 'float32');
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(Array.from(y.dataSync()), [4, 9, 4]);
  const values = x.arraySync();
  assert.ok(Math.abs(values[0][2][3][1] - (150 + 2 + 3 + 1) / 255) < 1e-6);
  assert.ok(Math.abs(values[1][31][31][2] - (0 + 31 + 31 + 2) / 255) < 1e-6);
  assert.deepEqual(values[0], values[2]);
  tf.dispose([x, y]);
  assert.throws(() => gatherBatch(data, [7]), /outside the split/);
});

test('iterateBatches: shapes, indices, short last batch or not', () => {
  const data = split();
  const order = Int32Array.from([6, 5, 4, 3, 2, 1, 0]);
  const sizes: number[] = [];
  const seen: number[] = [];
  for (const batch of iterateBatches(data, order, 3)) {
    sizes.push(batch.x.shape[0]);
    seen.push(...batch.indices);
    assert.deepEqual(Array.from(batch.y.dataSync()), Array.from(batch.indices, (i) => 9 - i));
    tf.dispose([batch.x, batch.y]);
  }
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(seen, Array.from(order));
  const dropped = [...iterateBatches(data, order, 3, { dropLast: true })];
  assert.deepEqual(dropped.map((b) => b.x.shape[0]), [3, 3]);
  dropped.forEach((b) => tf.dispose([b.x, b.y]));
});

test('gathering and iterating leak no tensors', () => {
  const data = split();
  const before = tf.memory().numTensors;
  for (let round = 0; round < 3; round++) {
    tf.dispose(Object.values(gatherBatch(data, [1, 2])));
    for (const batch of iterateBatches(data, [0, 1, 2, 3, 4], 2)) tf.dispose([batch.x, batch.y]);
  }
  assert.equal(tf.memory().numTensors, before);
});
