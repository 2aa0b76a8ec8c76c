import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classificationReport } from '../lib/eval/metrics';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

// True  0 0 0 1 1 2
// Pred  0 1 0 1 1 1     (class 2 is never predicted)
const yTrue = [0, 0, 0, 1, 1, 2];
const yPred = [0, 1, 0, 1, 1, 1];

test('hand-computed report with a class that is never predicted', () => {
  const r = classificationReport(yTrue, yPred, 3);
  assert.deepEqual(r.confusion, [[2, 1, 0], [0, 2, 0], [0, 1, 0]]);
  close(r.accuracy, 4 / 6);
  // class 0: TP 2 of 2 predicted, 3 true -> P 1, R 2/3, F1 = 2 (2/3) / (5/3) = 0.8
  close(r.perClass[0].precision, 1);
  close(r.perClass[0].recall, 2 / 3);
  close(r.perClass[0].f1, 0.8);
  // class 1: TP 2 of 4 predicted, 2 true -> P 0.5, R 1, F1 = 1 / 1.5 = 2/3
  close(r.perClass[1].precision, 0.5);
  close(r.perClass[1].recall, 1);
  close(r.perClass[1].f1, 2 / 3);
  // class 2: never predicted -> P 0 (zero division), R 0 / 1 = 0, F1 0
  assert.deepEqual(r.perClass[2], { precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(r.perClass.map((c) => c.support), [3, 2, 1]);
  close(r.macroPrecision, (1 + 0.5 + 0) / 3);
  close(r.macroRecall, (2 / 3 + 1 + 0) / 3);
  close(r.macroF1, (0.8 + 2 / 3 + 0) / 3); // 22/45, not the F1 of macro P and R (0.526)
});

test('a class with no examples still enters the macro means, with zeros', () => {
  const r = classificationReport(Int32Array.from(yTrue), Uint8Array.from(yPred), 4);
  assert.deepEqual(r.perClass[3], { precision: 0, recall: 0, f1: 0, support: 0 });
  close(r.macroPrecision, 1.5 / 4);
  close(r.accuracy, 4 / 6);
});

test('perfect predictions score 1 everywhere', () => {
  const labels = [2, 0, 1, 1, 0, 2];
  const r = classificationReport(labels, labels, 3);
  for (const value of [r.accuracy, r.macroPrecision, r.macroRecall, r.macroF1]) close(value, 1);
  assert.deepEqual(r.confusion, [[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
});

test('mismatched lengths, empty input and out-of-range labels are refused', () => {
  assert.throws(() => classificationReport([0, 1], [0], 2), /2 true labels but 1 predictions/);
  assert.throws(() => classificationReport([], [], 2), /no examples/);
  assert.throws(() => classificationReport([0, 2], [0, 1], 2), /label 2 is outside 0\.\.1/);
  assert.throws(() => classificationReport([0, 1], [0, 0.5], 2), /label 0.5/);
});
