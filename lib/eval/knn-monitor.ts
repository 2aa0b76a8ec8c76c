import * as tf from '@tensorflow/tfjs';
import type { KnnMonitorConfig } from '../config/types';
import type { Encoder, Module } from '../models/types';
import type { DataContext } from '../train/data-context';
import { Rng, mixSeed } from '../util/random';
import { embeddingStd } from './collapse';
import { extractFeatures } from './features';
import { knnPredict } from './knn';

const FEATURE_BATCH = 256;

export interface MonitorReading {
  /** weighted kNN accuracy on the validation queries, in [0, 1] */
  knnAccuracy: number;
  /** collapse diagnostic of the validation features */
  embeddingStd: number;
  /** accuracy of the online linear probe on the validation queries, when there is one */
  probeAccuracy?: number;
}

/** `count` rows of `pool`, drawn without replacement under `seed` (all of them when count is 0 or larger). */
export function sampleRows(pool: Int32Array, count: number, seed: number): Int32Array {
  if (count <= 0 || count >= pool.length) return pool;
  return new Rng(seed).shuffle(Int32Array.from(pool)).subarray(0, count).sort();
}

/**
 * The pretraining monitor: encoder features in inference mode (batch norm on running statistics) for
 * a labelled memory bank from the training pool and for validation queries; weighted kNN
 * (cosine, k neighbours, weights exp(s / t)) as in Wu et al. (2018), the embedding std collapse
 * diagnostic, and the online probe's accuracy.
 */
export function knnMonitorAccuracy(encoder: Encoder, data: DataContext, config: KnnMonitorConfig, probe: Module | null, seed: number): MonitorReading {
  const train = data.dataset.train;
  const bankRows = sampleRows(data.splits.trainPool, config.bankSize, mixSeed(seed, 0xba4c));
  const queryRows = sampleRows(data.splits.validation, config.querySize, mixSeed(seed, 0x9e41));
  const bank = extractFeatures(encoder, train, bankRows, FEATURE_BATCH);
  const queries = extractFeatures(encoder, train, queryRows, FEATURE_BATCH);
  const bankFeatures = tf.tensor2d(bank.features, [bankRows.length, bank.dim]);
  const queryFeatures = tf.tensor2d(queries.features, [queryRows.length, queries.dim]);
  try {
    const predicted = knnPredict(bankFeatures, bank.labels, queryFeatures, {
      k: config.k, temperature: config.temperature, numClasses: 10, chunkSize: 256,
    });
    const reading: MonitorReading = {
      knnAccuracy: accuracyOf(predicted, queries.labels),
      embeddingStd: embeddingStd(queryFeatures),
    };
    if (probe) {
      const predictedByProbe = tf.tidy(() => probe.apply(queryFeatures, false).argMax(1).dataSync() as Int32Array);
      reading.probeAccuracy = accuracyOf(predictedByProbe, queries.labels);
    }
    return reading;
  } finally {
    bankFeatures.dispose();
    queryFeatures.dispose();
  }
}

export function accuracyOf(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}
