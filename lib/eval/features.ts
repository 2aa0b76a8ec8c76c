import * as tf from '@tensorflow/tfjs';
import { gatherBatch } from '../data/batches';
import type { CifarSplit } from '../data/load';
import type { Encoder } from '../models/types';

/** Features of a set of images, row-major, with their labels. */
export interface ExtractedFeatures {
  /** [n, dim] row-major */
  features: Float32Array;
  /** [n] */
  labels: Int32Array;
  dim: number;
}

/**
 * Encoder features h of `split`'s images at `indices`, in that order, computed in batches with batch
 * norm in inference mode (running statistics), so the result does not depend on the batching.
 * @param split images [count, 32, 32, 3] uint8 HWC, labels [count]
 * @param indices [n] rows of `split`
 */
export function extractFeatures(
  encoder: Encoder, split: CifarSplit, indices: Int32Array, batchSize: number,
): ExtractedFeatures {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`batch size ${batchSize} is not a positive integer`);
  const dim = encoder.featureDim;
  const features = new Float32Array(indices.length * dim);
  const labels = new Int32Array(indices.length);
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = indices.subarray(start, Math.min(start + batchSize, indices.length));
    const h = tf.tidy(() => encoder.apply(gatherBatch(split, batch).x, false)); // [B, dim]
    if (h.rank !== 2 || h.shape[0] !== batch.length || h.shape[1] !== dim) {
      const shape = h.shape;
      h.dispose();
      throw new Error(`encoder returned features of shape [${shape}], expected [${batch.length}, ${dim}]`);
    }
    features.set(h.dataSync(), start * dim);
    h.dispose();
    batch.forEach((row, i) => { labels[start + i] = split.labels[row]; });
  }
  return { features, labels, dim };
}
