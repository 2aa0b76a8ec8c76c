import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './normalize';

export interface KnnOptions {
  /** neighbours that vote (clamped to the bank size) */
  k: number;
  /** temperature t of the vote weights exp(similarity / t) */
  temperature: number;
  numClasses: number;
  /** queries per similarity matrix; bounds memory at chunkSize x bank size floats */
  chunkSize: number;
}

/**
 * Weighted kNN classifier of the self-supervised monitors (Wu et al. 2018, InstDisc; used by
 * SimCLR and MoCo ports): the k most cosine-similar bank features vote for their labels with
 * weight exp(similarity / t); the class with the largest total wins.
 * @param trainFeatures bank [N, D]
 * @param trainLabels [N] integer labels in [0, numClasses)
 * @param queryFeatures [Q, D]
 * @returns [Q] predicted labels
 */
export function knnPredict(
  trainFeatures: tf.Tensor2D, trainLabels: Int32Array | tf.Tensor1D, queryFeatures: tf.Tensor2D, options: KnnOptions,
): Int32Array {
  const [bankSize, dim] = trainFeatures.shape;
  const labelCount = trainLabels instanceof Int32Array ? trainLabels.length : trainLabels.shape[0];
  if (bankSize === 0) throw new Error('the kNN bank is empty; pass at least one training feature');
  if (labelCount !== bankSize) throw new Error(`${bankSize} bank features but ${labelCount} labels; pass one label per feature`);
  if (queryFeatures.shape[1] !== dim) {
    throw new Error(`query features have ${queryFeatures.shape[1]} dimensions, the bank ${dim}; extract both with the same encoder`);
  }
  if (!(options.k >= 1 && options.temperature > 0 && options.chunkSize >= 1)) {
    throw new Error(`kNN needs k >= 1, temperature > 0 and chunkSize >= 1 (got ${options.k}, ${options.temperature}, ${options.chunkSize})`);
  }
  const k = Math.min(options.k, bankSize);
  const queryCount = queryFeatures.shape[0];
  const predictions = new Int32Array(queryCount);

  const [bank, labels] = tf.tidy(() => [
    l2NormalizeRows(trainFeatures), // [N, D]
    trainLabels instanceof Int32Array ? tf.tensor1d(trainLabels, 'int32') : trainLabels.toInt(),
  ]);
  for (let start = 0; start < queryCount; start += options.chunkSize) {
    const size = Math.min(options.chunkSize, queryCount - start);
    const chunk = tf.tidy(() => {
      const queries = l2NormalizeRows(queryFeatures.slice([start, 0], [size, dim])); // [B, D]
      const { values, indices } = tf.topk(queries.matMul(bank, false, true), k); // [B, N] -> [B, k], [B, k]
      // Subtracting each row's best similarity keeps exp finite at small t and changes no argmax.
      const weights = values.sub(values.slice([0, 0], [size, 1])).div(options.temperature).exp().expandDims(2); // [B, k, 1]
      const votes = tf.oneHot(tf.gather(labels, indices), options.numClasses); // [B, k, C]
      return votes.mul(weights).sum(1).argMax(1); // [B]
    });
    predictions.set(chunk.dataSync(), start);
    chunk.dispose();
  }
  tf.dispose([bank, labels]);
  return predictions;
}
