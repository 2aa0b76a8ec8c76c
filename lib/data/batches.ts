/**
 * Batches of images as tensors. The float batch is filled in JS and handed to TensorFlow.js in one
 * call, so only the batch (never the whole dataset) exists as float32.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_BYTES, IMAGE_SIZE, CHANNELS } from './cifar-format';
import type { CifarSplit } from './load';

export interface Batch {
  /** [B, 32, 32, 3] float32 in [0, 1] */
  x: tf.Tensor4D;
  /** [B] int32 labels */
  y: tf.Tensor1D;
}

/** Number of batches of `batchSize` in `n` items; with `dropLast` a short last batch is not counted. */
export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batch size ${batchSize} must be a positive integer`);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** byte value v -> v / 255 as float32: one lookup per pixel instead of a division */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** The images and labels of `indices` (positions in `split`) as x [B, 32, 32, 3] in [0, 1] and y [B]. */
export function gatherBatch(split: CifarSplit, indices: Int32Array | number[]): Batch {
  const size = indices.length;
  // Locals, not the imported constant: under tsx an imported binding is a getter call, and the
  // pixel loop below evaluated it 393,216 times per batch of 128, a visible share of a training step.
  const imageBytes = IMAGE_BYTES;
  const { images, count } = split;
  const pixels = new Float32Array(size * imageBytes);
  const labels = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const index = indices[b];
    if (!(Number.isInteger(index) && index >= 0 && index < count)) {
      throw new RangeError(`image index ${index} is outside the split (0 to ${count - 1})`);
    }
    const src = index * imageBytes;
    const dst = b * imageBytes;
    for (let p = 0; p < imageBytes; p++) pixels[dst + p] = BYTE_TO_UNIT[images[src + p]];
    labels[b] = split.labels[index];
  }
  return {
    x: tf.tensor4d(pixels, [size, IMAGE_SIZE, IMAGE_SIZE, CHANNELS]), // [B, 32, 32, 3]
    y: tf.tensor1d(labels, 'int32'), // [B]
  };
}

/**
 * Yields the batches of `indices` in order, each with the indices it holds. The caller disposes
 * `x` and `y` of every batch.
 */
export function* iterateBatches(
  split: CifarSplit, indices: Int32Array | number[], batchSize: number, options: { dropLast?: boolean } = {},
): Generator<Batch & { indices: Int32Array }> {
  const all = Int32Array.from(indices);
  const batches = batchCount(all.length, batchSize, options.dropLast ?? false);
  for (let i = 0; i < batches; i++) {
    const rows = all.subarray(i * batchSize, Math.min((i + 1) * batchSize, all.length));
    yield { ...gatherBatch(split, rows), indices: rows.slice() };
  }
}
