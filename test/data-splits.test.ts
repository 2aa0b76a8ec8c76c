import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { DataConfig } from '../lib/config/types';
import { STANDARD_FRACTIONS, STANDARD_SEEDS, loadCifar, makeSplits } from '../lib/data';
import { DataError, UsageError } from '../lib/util/errors';
import { makeTempDir, removeDir, writeSyntheticCifar } from './helpers/synthetic-cifar';

const temp = makeTempDir();
after(() => removeDir(temp));

// 60 training and 8 test images per class; 10 per class held out for validation -> a pool of 50
writeSyntheticCifar(temp, { trainPerClass: 60, testPerClass: 8, seed: 3 });
const dataset = loadCifar(temp, { strict: false });
const config: DataConfig = { root: temp, validationPerClass: 10, splitSeed: 0 };

function perClass(indices: Int32Array, labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

function isAscending(indices: Int32Array): boolean {
  return indices.every((v, i) => i === 0 || indices[i - 1] < v);
}

const splits = makeSplits(dataset, config);

test('validation is stratified and disjoint from the training pool, which covers the rest', () => {
  assert.deepEqual(perClass(splits.validation, dataset.train.labels), new Array(10).fill(10));
  assert.deepEqual(perClass(splits.trainPool, dataset.train.labels), new Array(10).fill(50));
  const union = new Set([...splits.validation, ...splits.trainPool]);
  assert.equal(union.size, 600, 'validation and pool overlap or miss images');
  assert.ok(isAscending(splits.validation) && isAscending(splits.trainPool) && isAscending(splits.test));
  assert.deepEqual(Array.from(splits.test), Array.from({ length: 80 }, (_, i) => i));
});

test('labelled subsets are stratified, inside the pool, nested across fractions, and seed-dependent', () => {
  const pool = new Set(splits.trainPool);
  for (const seed of [0, 1]) {
    let previous = new Set<number>();
    for (const fraction of [0.02, 0.1, 0.5, 1]) {
      const subset = splits.labelled(fraction, seed);
      const expected = Math.max(1, Math.round(fraction * 50));
      assert.deepEqual(perClass(subset, dataset.train.labels), new Array(10).fill(expected), `fraction ${fraction}`);
      assert.ok(subset.every((i) => pool.has(i)), 'a labelled image is not in the pool (validation or test leak)');
      assert.ok([...previous].every((i) => subset.includes(i)), `the smaller subset is not inside fraction ${fraction}`);
      assert.ok(isAscending(subset));
      previous = new Set(subset);
    }
  }
  assert.notDeepEqual(splits.labelled(0.1, 0), splits.labelled(0.1, 1));
  assert.deepEqual(Array.from(splits.labelled(1, 2)), Array.from(splits.trainPool));
});

test('splits are repeatable and depend on the split seed', () => {
  const again = makeSplits(dataset, config, { splitsDir: path.join(temp, 'elsewhere') });
  assert.deepEqual(again.validation, splits.validation);
  assert.deepEqual(again.labelled(0.1, 2), splits.labelled(0.1, 2));
  const otherSeed = makeSplits(dataset, { ...config, splitSeed: 1 });
  assert.notDeepEqual(otherSeed.validation, splits.validation);
});

test('an invalid label fraction or split size is a usage error', () => {
  for (const fraction of [0, -0.1, 1.5, Number.NaN]) {
    assert.throws(() => splits.labelled(fraction, 0), (err: Error) => err instanceof UsageError && /label fraction/.test(err.message));
  }
  assert.throws(() => makeSplits(dataset, { ...config, validationPerClass: 60 }), UsageError);
  assert.throws(() => makeSplits(dataset, { ...config, validationPerClass: 2.5 }), UsageError);
});

test('per-class caps on the pool and the test set', () => {
  const capped = makeSplits(dataset, { ...config, trainPerClassLimit: 7, testPerClassLimit: 3 });
  assert.deepEqual(capped.validation, splits.validation, 'the cap must not move the validation split');
  assert.deepEqual(perClass(capped.trainPool, dataset.train.labels), new Array(10).fill(7));
  assert.ok(capped.trainPool.every((i) => splits.trainPool.includes(i)));
  assert.deepEqual(perClass(capped.test, dataset.test.labels), new Array(10).fill(3));
  assert.deepEqual(perClass(capped.labelled(0.5, 0), dataset.train.labels), new Array(10).fill(4));
  // a cap above what is there takes everything
  const generous = makeSplits(dataset, { ...config, trainPerClassLimit: 1000, testPerClassLimit: 1000 });
  assert.deepEqual(generous.trainPool, splits.trainPool);
  assert.deepEqual(generous.test, splits.test);
  assert.throws(() => makeSplits(dataset, { ...config, trainPerClassLimit: -1 }), UsageError);
});

test('split files: written once with the indices, read back and checked, a mismatch is an error', () => {
  const folder = path.join(temp, 'splits', dataset.fingerprint, 'validation10-splitseed0');
  const names = fs.readdirSync(folder).sort();
  assert.equal(names.length, 1 + STANDARD_FRACTIONS.length * STANDARD_SEEDS.length);
  assert.ok(names.includes('labelled-1pct-seed2.json') && names.includes('labelled-100pct-seed0.json'));
  const file = path.join(folder, 'labelled-10pct-seed1.json');
  const text = fs.readFileSync(file, 'utf8');
  const stored = JSON.parse(text) as { fingerprint: string; fraction: number; seed: number; classCounts: number[]; indices: number[] };
  assert.equal(stored.fingerprint, dataset.fingerprint);
  assert.equal(stored.fraction, 0.1);
  assert.equal(stored.seed, 1);
  assert.deepEqual(stored.classCounts, new Array(10).fill(5));
  assert.deepEqual(stored.indices, Array.from(splits.labelled(0.1, 1)));
  assert.ok(text.split('\n').length < 15, 'indices should sit on one line');

  const validation = path.join(folder, 'validation.json');
  const original = fs.readFileSync(validation, 'utf8');
  const edited = JSON.parse(original) as { indices: number[] };
  edited.indices[0] = edited.indices[0] === 0 ? 1 : 0;
  fs.writeFileSync(validation, JSON.stringify(edited));
  assert.throws(() => makeSplits(dataset, config), (err: Error) =>
    err instanceof DataError && err.message.includes('validation.json disagrees') && /\d+ of 100 indices differ/.test(err.message));
  fs.writeFileSync(validation, original);
  assert.doesNotThrow(() => makeSplits(dataset, config));
});

test('capped pools write only the validation file', () => {
  const splitsDir = path.join(temp, 'capped-splits');
  makeSplits(dataset, { ...config, trainPerClassLimit: 7 }, { splitsDir });
  assert.deepEqual(fs.readdirSync(path.join(splitsDir, dataset.fingerprint, 'validation10-splitseed0')), ['validation.json']);
});
