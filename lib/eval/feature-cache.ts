import type { Encoder } from '../models/types';
import type { DataContext } from '../train/data-context';
import { extractFeatures } from './features';

/** Images per forward pass of a feature extraction. */
export const FEATURE_BATCH = 256;

/**
 * Frozen-encoder features of every image a probe can touch, extracted once (inference mode, no
 * augmentation) and shared by all linear probes and kNN evaluations of that encoder.
 * Rows are addressed by dataset index; rows that were not extracted stay zero.
 */
export interface FeatureCache {
  dim: number;
  /** [50000 (train count), dim] */
  train: Float32Array;
  /** [test count, dim] */
  test: Float32Array;
}

/** Extracts features of the training pool, the validation split and the test rows of `data`. */
export function computeFeatureCache(encoder: Encoder, data: DataContext, trainRows?: Int32Array): FeatureCache {
  const { train, test } = data.dataset;
  const rows = trainRows ?? Int32Array.from(new Set([...data.splits.trainPool, ...data.splits.validation])).sort();
  const trainPart = extractFeatures(encoder, train, rows, FEATURE_BATCH);
  const testPart = extractFeatures(encoder, test, data.splits.test, FEATURE_BATCH);
  const dim = trainPart.dim;
  const cache: FeatureCache = { dim, train: new Float32Array(train.count * dim), test: new Float32Array(test.count * dim) };
  rows.forEach((row, i) => cache.train.set(trainPart.features.subarray(i * dim, (i + 1) * dim), row * dim));
  data.splits.test.forEach((row: number, i: number) => cache.test.set(testPart.features.subarray(i * dim, (i + 1) * dim), row * dim));
  return cache;
}

/** Features of `rows` gathered into one [rows.length, dim] array. */
export function gatherFeatures(features: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(features.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return out;
}
