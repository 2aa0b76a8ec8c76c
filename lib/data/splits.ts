/**
 * The study's splits of CIFAR-10: a validation split cut from the training images, the training
 * pool (the rest), the test set, and class-balanced labelled subsets of the pool.
 *
 * Every choice is a seeded permutation of one class's indices in dataset order, so the splits
 * depend only on the data, the seeds and the sizes. Labelled subsets of one seed are prefixes of
 * one permutation per class, hence nested: the 1 % subset lies inside the 10 %, inside the 50 %.
 */
import * as path from 'node:path';
import type { DataConfig } from '../config/types';
import { UsageError } from '../util/errors';
import { Rng, mixSeed } from '../util/random';
import { NUM_CLASSES, countPerClass } from './cifar-format';
import type { CifarDataset } from './load';
import { SplitRecord, checkOrWriteSplit, splitFolder } from './split-files';

export interface StudySplits {
  /** training-image indices held out for model selection, ascending */
  validation: Int32Array;
  /** training-image indices not in `validation` (capped per class when configured), ascending */
  trainPool: Int32Array;
  /** test-image indices (capped per class when configured), ascending */
  test: Int32Array;
  /** class-balanced subset of `trainPool` holding `fraction` (in (0, 1]) of each class, ascending */
  labelled(fraction: number, seed: number): Int32Array;
}

export interface SplitOptions {
  /** folder of the split files (default: `<config.root>/splits`, i.e. the committed data/splits) */
  splitsDir?: string;
}

/** Label fractions and seeds whose subsets are written to the split files. */
export const STANDARD_FRACTIONS = [1, 0.5, 0.1, 0.01];
export const STANDARD_SEEDS = [0, 1, 2];

// Stream tags keep the validation and labelled permutations independent for equal seeds.
const VALIDATION_STREAM = 1;
const LABELLED_STREAM = 2;

/** Indices of each class among `labels`, in dataset order. */
function indicesByClass(labels: Uint8Array): Int32Array[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (const label of labels) counts[label]++;
  const byClass = counts.map((n) => new Int32Array(n));
  const filled = new Array<number>(NUM_CLASSES).fill(0);
  labels.forEach((label, i) => { byClass[label][filled[label]++] = i; });
  return byClass;
}

/** Concatenation of per-class index lists, sorted ascending (dataset order). */
function merged(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out.sort();
}

function checkCount(name: string, value: number | undefined, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > max)) {
    const range = max === Infinity ? 'at least 0' : `from 0 to ${max}`;
    throw new UsageError(`${name} = ${value} must be a whole number ${range} (images per class)`);
  }
}

/** Checks a label fraction: a number in (0, 1]. */
export function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new UsageError(`label fraction ${fraction} is not in (0, 1]: give e.g. 0.1 for 10 % of the labels`);
  }
}

/**
 * Cuts the splits of `dataset` as `config` says. The validation split and, for the uncapped
 * pool, the labelled subsets of STANDARD_FRACTIONS x STANDARD_SEEDS are checked against the
 * split files when they exist (a DataError if they disagree) and written when absent.
 */
export function makeSplits(dataset: CifarDataset, config: DataConfig, options: SplitOptions = {}): StudySplits {
  const trainByClass = indicesByClass(dataset.train.labels);
  const testByClass = indicesByClass(dataset.test.labels);
  // at least one training image per class must stay in the pool; caps above what is there take all
  checkCount('validationPerClass', config.validationPerClass, Math.min(...trainByClass.map((indices) => indices.length)) - 1);
  checkCount('trainPerClassLimit', config.trainPerClassLimit, Infinity);
  checkCount('testPerClassLimit', config.testPerClassLimit, Infinity);

  const validationByClass: Int32Array[] = [];
  const poolByClass: Int32Array[] = [];
  trainByClass.forEach((indices, c) => {
    const order = new Rng(mixSeed(config.splitSeed, VALIDATION_STREAM, c)).shuffle(indices.slice());
    validationByClass.push(order.slice(0, config.validationPerClass).sort());
    const rest = order.slice(config.validationPerClass);
    // the cap takes a prefix of the permutation: a random, not the first, set of images
    poolByClass.push((config.trainPerClassLimit === undefined ? rest : rest.slice(0, config.trainPerClassLimit)).sort());
  });
  const test = merged(testByClass.map(
    (indices) => (config.testPerClassLimit === undefined ? indices : indices.slice(0, config.testPerClassLimit)),
  ));

  const subsets = new Map<string, Int32Array>();
  const labelled = (fraction: number, seed: number): Int32Array => {
    checkFraction(fraction);
    const key = `${fraction}/${seed}`;
    let subset = subsets.get(key);
    if (subset === undefined) {
      subset = merged(poolByClass.map((indices, c) => {
        const order = new Rng(mixSeed(config.splitSeed, LABELLED_STREAM, seed, c)).shuffle(indices.slice());
        return order.slice(0, Math.max(1, Math.round(fraction * indices.length)));
      }));
      subsets.set(key, subset);
    }
    return subset;
  };
  const splits: StudySplits = { validation: merged(validationByClass), trainPool: merged(poolByClass), test, labelled };

  const folder = splitFolder(options.splitsDir ?? path.join(config.root, 'splits'), dataset.fingerprint, config);
  const classCounts = (indices: Int32Array): number[] => countPerClass(Uint8Array.from(indices, (i) => dataset.train.labels[i]));
  const records: SplitRecord[] = [{ kind: 'validation', indices: splits.validation, classCounts: classCounts(splits.validation) }];
  // the committed subsets describe the full pool; capped (tiny) pools are only computed
  if (config.trainPerClassLimit === undefined) {
    for (const fraction of STANDARD_FRACTIONS) {
      for (const seed of STANDARD_SEEDS) {
        const indices = labelled(fraction, seed);
        records.push({ kind: 'labelled', fraction, seed, indices, classCounts: classCounts(indices) });
      }
    }
  }
  for (const record of records) checkOrWriteSplit(folder, dataset.fingerprint, config, record);
  return splits;
}
