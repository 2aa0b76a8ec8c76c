import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type CifarSplit } from '../data/index';
import type { Encoder, Module } from '../models/types';

/** Predicted classes of `rows` of a split, with batch norm in inference mode. */
export function predictImages(encoder: Encoder, classifier: Module, split: CifarSplit, rows: Int32Array, batchSize: number): Int32Array {
  const predicted = new Int32Array(rows.length);
  for (let start = 0; start < rows.length; start += batchSize) {
    const batchRows = rows.subarray(start, Math.min(rows.length, start + batchSize));
    const classes = tf.tidy(() => {
      const { x } = gatherBatch(split, batchRows);
      return classifier.apply(encoder.apply(x, false), false).argMax(1).dataSync() as Int32Array; // [B]
    });
    predicted.set(classes, start);
  }
  return predicted;
}

/** Predicted classes of feature rows [n, dim] with a classifier on frozen features. */
export function predictFeatures(classifier: Module, features: Float32Array, dim: number, batchSize: number): Int32Array {
  const count = features.length / dim;
  const predicted = new Int32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const classes = tf.tidy(() => {
      const x = tf.tensor2d(features.subarray(start * dim, end * dim), [end - start, dim]);
      return classifier.apply(x, false).argMax(1).dataSync() as Int32Array;
    });
    predicted.set(classes, start);
  }
  return predicted;
}
