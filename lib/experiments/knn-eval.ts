import * as tf from '@tensorflow/tfjs';
import type { KnnMonitorConfig } from '../config/types';
import type { FeatureCache } from '../eval/feature-cache';
import { gatherFeatures } from '../eval/feature-cache';
import { knnPredictForKs } from '../eval/knn';
import { accuracyOf } from '../eval/knn-monitor';
import { classificationReport, type ClassificationReport } from '../eval/metrics';
import type { DataContext } from '../train/data-context';

/** The k values the study tries (InstDisc and SimCLR monitors use 200; a small bank wants fewer). */
export const KNN_K_GRID = [10, 20, 50, 100, 200];

/** The grid with every k above the bank size replaced by the bank size, duplicates dropped, ascending. */
export function cappedKs(grid: number[], bankSize: number): number[] {
  return [...new Set(grid.map((k) => Math.min(k, bankSize)))].sort((a, b) => a - b);
}

/** The k with the best validation accuracy (the smallest k on a tie), and the whole grid for the record. */
export function chooseK(ks: number[], valAccuracies: number[]): { k: number; grid: Array<{ k: number; valAccuracy: number }> } {
  const grid = ks.map((k, i) => ({ k, valAccuracy: valAccuracies[i] }));
  const best = [...grid].sort((a, b) => b.valAccuracy - a.valAccuracy || a.k - b.k)[0];
  return { k: best.k, grid };
}

export interface KnnTestResult {
  report: ClassificationReport;
  /** per test image (in `splits.test` order): 1 when predicted right */
  correct: Uint8Array;
  k: number;
  /** validation accuracy of the chosen k */
  valAccuracy: number;
  grid: Array<{ k: number; valAccuracy: number }>;
}

/**
 * Weighted kNN classification of the test set with the labelled subset as the memory bank: the
 * label-efficiency of frozen features without training anything. k is chosen on the validation
 * split from `grid` capped by the bank size; the test set is classified once, with that k.
 */
export function knnTestReport(cache: FeatureCache, data: DataContext, labelled: Int32Array, knn: Pick<KnnMonitorConfig, 'temperature'>, grid = KNN_K_GRID): KnnTestResult {
  const { train, test } = data.dataset;
  const bankLabels = Int32Array.from(labelled, (r) => train.labels[r]);
  const validation = data.splits.validation;
  const testRows = data.splits.test;
  const options = { temperature: knn.temperature, numClasses: 10, chunkSize: 256 };
  const bank = tf.tensor2d(gatherFeatures(cache.train, cache.dim, labelled), [labelled.length, cache.dim]);
  const valQueries = tf.tensor2d(gatherFeatures(cache.train, cache.dim, validation), [validation.length, cache.dim]);
  const testQueries = tf.tensor2d(gatherFeatures(cache.test, cache.dim, testRows), [testRows.length, cache.dim]);
  try {
    const ks = cappedKs(grid, labelled.length);
    const valLabels = Int32Array.from(validation, (r) => train.labels[r]);
    const choice = chooseK(ks, knnPredictForKs(bank, bankLabels, valQueries, ks, options).map((p) => accuracyOf(p, valLabels)));
    const [predicted] = knnPredictForKs(bank, bankLabels, testQueries, [choice.k], options);
    const testLabels = Int32Array.from(testRows, (r) => test.labels[r]);
    return {
      report: classificationReport(testLabels, predicted, 10),
      correct: Uint8Array.from(testLabels, (label, i) => (predicted[i] === label ? 1 : 0)),
      k: choice.k,
      valAccuracy: choice.grid.find((g) => g.k === choice.k)!.valAccuracy,
      grid: choice.grid,
    };
  } finally {
    tf.dispose([bank, valQueries, testQueries]);
  }
}
