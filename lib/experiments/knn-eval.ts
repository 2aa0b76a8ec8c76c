import * as tf from '@tensorflow/tfjs';
import type { KnnMonitorConfig } from '../config/types';
import type { FeatureCache } from '../eval/feature-cache';
import { gatherFeatures } from '../eval/feature-cache';
import { knnPredict } from '../eval/knn';
import { classificationReport, type ClassificationReport } from '../eval/metrics';
import type { DataContext } from '../train/data-context';

/**
 * Weighted kNN classification of the test set with the labelled subset as the memory bank: the
 * label-efficiency of frozen features without training anything.
 */
export function knnTestReport(cache: FeatureCache, data: DataContext, labelled: Int32Array, knn: Pick<KnnMonitorConfig, 'k' | 'temperature'>): ClassificationReport {
  const { train, test } = data.dataset;
  const bankLabels = Int32Array.from(labelled, (r) => train.labels[r]);
  const testRows = data.splits.test;
  const bank = tf.tensor2d(gatherFeatures(cache.train, cache.dim, labelled), [labelled.length, cache.dim]);
  const queries = tf.tensor2d(gatherFeatures(cache.test, cache.dim, testRows), [testRows.length, cache.dim]);
  try {
    const predicted = knnPredict(bank, bankLabels, queries, { k: knn.k, temperature: knn.temperature, numClasses: 10, chunkSize: 256 });
    return classificationReport(Int32Array.from(testRows, (r) => test.labels[r]), predicted, 10);
  } finally {
    bank.dispose();
    queries.dispose();
  }
}
