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

  const bank = tf.tidy(() => l2NormalizeRows(trainFeatures)); // [N, D]
  const labels = trainLabels instanceof Int32Array ? trainLabels : (trainLabels.dataSync() as Int32Array);
  const scratch = new Float32Array(bankSize);
  const scores = new Float64Array(options.numClasses);
  for (let start = 0; start < queryCount; start += options.chunkSize) {
    const size = Math.min(options.chunkSize, queryCount - start);
    const similarities = tf.tidy(() => {
      const queries = l2NormalizeRows(queryFeatures.slice([start, 0], [size, dim])); // [B, D]
      return queries.matMul(bank, false, true); // [B, N]
    });
    const values = similarities.dataSync() as Float32Array;
    similarities.dispose();
    for (let row = 0; row < size; row++) {
      const sims = values.subarray(row * bankSize, (row + 1) * bankSize);
      predictions[start + row] = weightedVote(sims, labels, k, options.temperature, scratch, scores);
    }
  }
  bank.dispose();
  return predictions;
}

/**
 * `knnPredict` for several k at once from one similarity pass: per query the largest max(ks)
 * similarities are sorted once and their votes accumulated, the winner read off at each k. For
 * choosing k on a validation split.
 * @returns one [Q] prediction array per entry of `ks`, in that order
 */
export function knnPredictForKs(
  trainFeatures: tf.Tensor2D, trainLabels: Int32Array, queryFeatures: tf.Tensor2D, ks: number[], options: Omit<KnnOptions, 'k'>,
): Int32Array[] {
  const [bankSize, dim] = trainFeatures.shape;
  if (ks.length === 0 || ks.some((k) => !(Number.isInteger(k) && k >= 1))) throw new Error(`kNN needs positive integer k values, got [${ks}]`);
  if (bankSize === 0) throw new Error('the kNN bank is empty; pass at least one training feature');
  if (trainLabels.length !== bankSize) throw new Error(`${bankSize} bank features but ${trainLabels.length} labels; pass one label per feature`);
  const capped = ks.map((k) => Math.min(k, bankSize));
  const kMax = Math.max(...capped);
  const ascending = capped.map((_, i) => i).sort((a, b) => capped[a] - capped[b]);
  const queryCount = queryFeatures.shape[0];
  const out = ks.map(() => new Int32Array(queryCount));
  const bank = tf.tidy(() => l2NormalizeRows(trainFeatures)); // [N, D]
  const scratch = new Float32Array(bankSize);
  const scores = new Float64Array(options.numClasses);
  const order: number[] = [];
  for (let start = 0; start < queryCount; start += options.chunkSize) {
    const size = Math.min(options.chunkSize, queryCount - start);
    const similarities = tf.tidy(() => l2NormalizeRows(queryFeatures.slice([start, 0], [size, dim])).matMul(bank, false, true)); // [B, N]
    const values = similarities.dataSync() as Float32Array;
    similarities.dispose();
    for (let row = 0; row < size; row++) {
      const sims = values.subarray(row * bankSize, (row + 1) * bankSize);
      scratch.set(sims);
      const threshold = kthLargest(scratch, kMax);
      order.length = 0;
      for (let j = 0; j < bankSize; j++) if (sims[j] >= threshold) order.push(j);
      // largest first; equal similarities in bank order, as knnPredict breaks ties
      order.sort((a, b) => sims[b] - sims[a] || a - b);
      const best = sims[order[0]];
      scores.fill(0);
      let winner = 0;
      let taken = 0;
      for (const i of ascending) {
        const k = capped[i];
        for (; taken < k; taken++) {
          const j = order[taken];
          scores[trainLabels[j]] += Math.exp((sims[j] - best) / options.temperature);
        }
        winner = 0;
        for (let c = 1; c < scores.length; c++) if (scores[c] > scores[winner]) winner = c;
        out[i][start + row] = winner;
      }
    }
  }
  bank.dispose();
  return out;
}

/**
 * The class with the largest sum of exp(s / t) over the k largest similarities `sims` (ties at the
 * k-th value broken by bank order). Selection runs in JavaScript (quickselect, O(N) per query):
 * sorting whole rows, as a generic top-k kernel does, dominated the monitor's time.
 */
function weightedVote(sims: Float32Array, labels: Int32Array, k: number, temperature: number, scratch: Float32Array, scores: Float64Array): number {
  scratch.set(sims);
  const threshold = kthLargest(scratch, k);
  let best = -Infinity;
  for (let j = 0; j < sims.length; j++) if (sims[j] > best) best = sims[j];
  let above = 0;
  for (let j = 0; j < sims.length; j++) if (sims[j] > threshold) above++;
  let tiesLeft = k - above;
  scores.fill(0);
  for (let j = 0; j < sims.length; j++) {
    const s = sims[j];
    if (s > threshold || (s === threshold && tiesLeft-- > 0)) {
      // Subtracting the best similarity keeps exp finite at small t and changes no argmax.
      scores[labels[j]] += Math.exp((s - best) / temperature);
    }
  }
  let winner = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c] > scores[winner]) winner = c;
  return winner;
}

/** The k-th largest value of `values` (1-based k), by quickselect; reorders `values`. */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const tmp = values[i];
        values[i] = values[j];
        values[j] = tmp;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target];
}
