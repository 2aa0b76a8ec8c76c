/** Precision, recall, F1 and support of one class. */
export interface ClassScores {
  /** correct predictions of the class / predictions of the class (0 when it is never predicted) */
  precision: number;
  /** correct predictions of the class / examples of the class (0 when it has no examples) */
  recall: number;
  /** harmonic mean of precision and recall (0 when both are 0) */
  f1: number;
  /** examples whose true label is the class */
  support: number;
}

export interface ClassificationReport {
  /** correct predictions / examples, in [0, 1] */
  accuracy: number;
  /** unweighted means over all `numClasses` classes, in [0, 1] */
  macroPrecision: number;
  macroRecall: number;
  /** mean of the per-class F1 scores (not the F1 of the macro precision and recall), as scikit-learn */
  macroF1: number;
  /** indexed by class */
  perClass: ClassScores[];
  /** confusion[t][p] = examples of true class t predicted as p: rows true, columns predicted */
  confusion: number[][];
}

/**
 * Accuracy, per-class and macro-averaged precision, recall and F1, and the confusion matrix of
 * integer labels in [0, numClasses). A ratio with a zero denominator counts as 0, as
 * scikit-learn's `zero_division=0`, and every class enters the macro means, predicted or not.
 */
export function classificationReport(
  yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number,
): ClassificationReport {
  if (yTrue.length !== yPred.length) {
    throw new Error(`${yTrue.length} true labels but ${yPred.length} predictions; pass one prediction per example`);
  }
  if (yTrue.length === 0) throw new Error('no examples to score; pass at least one label');
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    confusion[checkedLabel(yTrue[i], numClasses)][checkedLabel(yPred[i], numClasses)] += 1;
  }

  let correct = 0;
  const perClass = confusion.map((row, c) => {
    const truePositives = row[c];
    const support = row.reduce((sum, n) => sum + n, 0);
    const predicted = confusion.reduce((sum, r) => sum + r[c], 0);
    correct += truePositives;
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const mean = (pick: (s: ClassScores) => number) => perClass.reduce((sum, s) => sum + pick(s), 0) / numClasses;
  return {
    accuracy: correct / yTrue.length,
    macroPrecision: mean((s) => s.precision),
    macroRecall: mean((s) => s.recall),
    macroF1: mean((s) => s.f1),
    perClass,
    confusion,
  };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function checkedLabel(label: number, numClasses: number): number {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new Error(`label ${label} is outside 0..${numClasses - 1}; check numClasses and the label arrays`);
  }
  return label;
}
