import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { knnPredict, knnPredictForKs } from '../lib/eval/knn';
import { cappedKs, chooseK } from '../lib/experiments/knn-eval';
import { Rng } from '../lib/util/random';

const options = { k: 3, temperature: 0.1, numClasses: 2, chunkSize: 256 };

/** Unit vectors at the given angles, degrees: [n, 2]. */
function atAngles(degrees: number[]): tf.Tensor2D {
  return tf.tensor2d(degrees.flatMap((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]), [degrees.length, 2]);
}

/** Naive reference: every query against every bank row, in plain loops. */
function naiveKnn(bank: number[][], labels: Int32Array, queries: number[][], k: number, t: number, numClasses: number): Int32Array {
  const unit = (v: number[]) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
  const bankUnit = bank.map(unit);
  return Int32Array.from(queries.map((q) => {
    const qu = unit(q);
    const sims = bankUnit.map((b, i) => ({ s: b.reduce((sum, x, j) => sum + x * qu[j], 0), label: labels[i] }));
    sims.sort((a, b) => b.s - a.s);
    const scores = new Array<number>(numClasses).fill(0);
    for (const { s, label } of sims.slice(0, k)) scores[label] += Math.exp(s / t);
    return scores.indexOf(Math.max(...scores));
  }));
}

test('the temperature decides between one close neighbour and two farther ones', () => {
  // One class-0 neighbour at similarity 1, two class-1 neighbours at similarity cos 60 = 0.5.
  const bank = atAngles([0, 60, -60]);
  const labels = Int32Array.from([0, 1, 1]);
  const query = atAngles([0]);
  // t = 0.1: exp(10) = 22026 against 2 exp(5) = 297 -> class 0
  assert.deepEqual(knnPredict(bank, labels, query, options), Int32Array.from([0]));
  // t = 10: exp(0.1) = 1.11 against 2 exp(0.05) = 2.10 -> class 1 (nearly a majority vote)
  assert.deepEqual(knnPredict(bank, labels, query, { ...options, temperature: 10 }), Int32Array.from([1]));
  // k = 1: only the closest votes
  assert.deepEqual(knnPredict(bank, labels, query, { ...options, k: 1, temperature: 10 }), Int32Array.from([0]));
  tf.dispose([bank, query]);
});

test('similarity is cosine: rescaling features changes nothing; k beyond the bank is clamped', () => {
  const bank = tf.tensor2d([[10, 0], [0, 0.1], [0, 3]]);
  const labels = tf.tensor1d([0, 1, 1], 'int32');
  const queries = tf.tensor2d([[0.01, 0.001], [-1, 5], [7, 5]]);
  const expected = Int32Array.from([0, 1, 0]);
  assert.deepEqual(knnPredict(bank, labels, queries, { ...options, k: 1 }), expected);
  assert.deepEqual(knnPredict(bank, labels, queries, { ...options, k: 100, temperature: 0.05 }), expected);
  assert.equal(labels.isDisposed, false); // the caller's tensors are the caller's
  tf.dispose([bank, labels, queries]);
});

test('matches a naive double loop on random features, for any chunk size, without leaking tensors', () => {
  const rng = new Rng(7);
  const random = (n: number, d: number) => Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const bankRows = random(60, 5);
  const queryRows = random(23, 5);
  const labels = Int32Array.from({ length: 60 }, () => rng.int(4));
  const expected = naiveKnn(bankRows, labels, queryRows, 7, 0.2, 4);
  const bank = tf.tensor2d(bankRows);
  const queries = tf.tensor2d(queryRows);
  const before = tf.memory().numTensors;
  for (const chunkSize of [1, 5, 23, 1000]) {
    const predicted = knnPredict(bank, labels, queries, { k: 7, temperature: 0.2, numClasses: 4, chunkSize });
    assert.deepEqual(predicted, expected, `chunk ${chunkSize}`);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([bank, queries]);
});

test('a tiny temperature does not overflow the weights', () => {
  const bank = atAngles([0, 10, 20]);
  const query = atAngles([1]);
  assert.deepEqual(knnPredict(bank, Int32Array.from([1, 0, 0]), query, { ...options, temperature: 1e-3 }), Int32Array.from([1]));
  tf.dispose([bank, query]);
});

test('inconsistent inputs are refused with the fix', () => {
  const bank = tf.tensor2d([[1, 0], [0, 1]]);
  const query = tf.tensor2d([[1, 0, 0]]);
  assert.throws(() => knnPredict(bank, Int32Array.from([0]), bank, options), /2 bank features but 1 labels/);
  assert.throws(() => knnPredict(bank, Int32Array.from([0, 1]), query, options), /3 dimensions, the bank 2/);
  assert.throws(() => knnPredict(bank, Int32Array.from([0, 1]), bank, { ...options, k: 0 }), /k >= 1/);
  tf.dispose([bank, query]);
});

test('several k from one pass match knnPredict at each k (ks in any order, capped by the bank)', () => {
  const rng = new Rng(11);
  const random = (n: number, d: number) => Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const bank = tf.tensor2d(random(40, 6));
  const queries = tf.tensor2d(random(17, 6));
  const labels = Int32Array.from({ length: 40 }, () => rng.int(3));
  const ks = [20, 1, 5, 200];
  const before = tf.memory().numTensors;
  const all = knnPredictForKs(bank, labels, queries, ks, { temperature: 0.3, numClasses: 3, chunkSize: 6 });
  ks.forEach((k, i) => assert.deepEqual(all[i], knnPredict(bank, labels, queries, { k, temperature: 0.3, numClasses: 3, chunkSize: 256 }), `k = ${k}`));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([bank, queries]);
});

test('k is chosen on validation accuracy from the grid capped by the bank; ties go to the smaller k', () => {
  assert.deepEqual(chooseK([10, 20, 50], [0.5, 0.6, 0.6]), { k: 20, grid: [{ k: 10, valAccuracy: 0.5 }, { k: 20, valAccuracy: 0.6 }, { k: 50, valAccuracy: 0.6 }] });
  assert.deepEqual(chooseK([50, 10], [0.6, 0.6]).k, 10);
  assert.deepEqual(cappedKs([10, 20, 50, 100, 200], 30), [10, 20, 30], 'k above the bank size becomes the bank size, once');
  assert.deepEqual(cappedKs([10, 20, 50, 100, 200], 45000), [10, 20, 50, 100, 200]);
});
