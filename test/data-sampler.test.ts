import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EpochSampler } from '../lib/data';
import { UsageError } from '../lib/util/errors';

/** A pool that is not 0..n-1, so a sampler returning positions instead of indices fails. */
const pool = Int32Array.from({ length: 200 }, (_, i) => 1000 + 3 * i);
const sorted = (a: Int32Array): number[] => Array.from(a).sort((x, y) => x - y);

test("'all' visits the whole pool, in a new order each epoch", () => {
  const sampler = new EpochSampler(pool, { mode: 'all', fraction: 0.3 }, 7);
  const e1 = sampler.indicesForEpoch(1);
  const e2 = sampler.indicesForEpoch(2);
  assert.deepEqual(sorted(e1), Array.from(pool));
  assert.deepEqual(sorted(e2), Array.from(pool));
  assert.notDeepEqual(e1, e2);
  assert.notDeepEqual(e1, pool, 'not shuffled');
});

test("'fixed-subset' visits the same random fraction every epoch, reshuffled", () => {
  const sampler = new EpochSampler(pool, { mode: 'fixed-subset', fraction: 0.25 }, 7);
  const e1 = sampler.indicesForEpoch(1);
  const e2 = sampler.indicesForEpoch(2);
  assert.equal(e1.length, 50);
  assert.equal(new Set(e1).size, 50);
  assert.deepEqual(sorted(e1), sorted(e2));
  assert.notDeepEqual(e1, e2);
  assert.ok(e1.every((i) => pool.includes(i)));
  assert.notDeepEqual(sorted(e1), Array.from(pool.subarray(0, 50)), 'the subset should be random, not the first images');
});

test("'fresh-subset' draws a new random fraction every epoch", () => {
  const sampler = new EpochSampler(pool, { mode: 'fresh-subset', fraction: 0.25 }, 7);
  const e1 = sampler.indicesForEpoch(1);
  const e2 = sampler.indicesForEpoch(2);
  assert.equal(e1.length, 50);
  assert.equal(new Set(e1).size, 50);
  assert.notDeepEqual(sorted(e1), sorted(e2));
  assert.ok([...e1, ...e2].every((i) => pool.includes(i)));
  // over many epochs every image gets visited
  const seen = new Set<number>();
  for (let epoch = 0; epoch < 40; epoch++) sampler.indicesForEpoch(epoch).forEach((i) => seen.add(i));
  assert.equal(seen.size, pool.length);
});

test('the order depends only on (seed, epoch): a resumed run gets the same epochs', () => {
  for (const mode of ['all', 'fixed-subset', 'fresh-subset'] as const) {
    const first = new EpochSampler(pool, { mode, fraction: 0.5 }, 11);
    const expected = [0, 1, 2, 3].map((epoch) => first.indicesForEpoch(epoch));
    const resumed = new EpochSampler(pool, { mode, fraction: 0.5 }, 11);
    assert.deepEqual(resumed.indicesForEpoch(3), expected[3], mode);
    assert.deepEqual(resumed.indicesForEpoch(1), expected[1], mode);
    assert.notDeepEqual(new EpochSampler(pool, { mode, fraction: 0.5 }, 12).indicesForEpoch(1), expected[1], mode);
  }
  const copy = pool.slice();
  new EpochSampler(copy, { mode: 'all', fraction: 1 }, 1).indicesForEpoch(0);
  assert.deepEqual(copy, pool, 'the pool must not be shuffled in place');
});

test('bad settings are usage errors', () => {
  assert.throws(() => new EpochSampler(pool, { mode: 'fresh-subset', fraction: 0 }, 0), UsageError);
  assert.throws(() => new EpochSampler(pool, { mode: 'fixed-subset', fraction: 1.2 }, 0), UsageError);
  assert.throws(() => new EpochSampler(new Int32Array(0), { mode: 'all', fraction: 1 }, 0), UsageError);
  assert.doesNotThrow(() => new EpochSampler(pool, { mode: 'all', fraction: 0 }, 0), 'fraction is ignored by all');
});

test('supervised epochs have the same size at every label budget: a subset of a large set, reshuffled passes over a small one', async () => {
  const { supervisedEpochRows } = await import('../lib/train/supervised');
  const large = supervisedEpochRows(pool, 60, 3);
  assert.equal(large(1).length, 60);
  assert.equal(new Set(large(1)).size, 60, 'a subset of a larger set repeats no image');
  assert.notDeepEqual(sorted(large(1)), sorted(large(2)), 'a fresh subset each epoch');

  const small = pool.subarray(0, 30);
  const epochs = supervisedEpochRows(small, 100, 3);
  const e1 = epochs(1);
  assert.equal(e1.length, 100);
  const counts = new Map<number, number>();
  for (const r of e1) counts.set(r, (counts.get(r) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), Array.from(small), 'every labelled image is visited');
  assert.ok([...counts.values()].every((c) => c === 3 || c === 4), 'ceil(100 / 30) = 4 passes, cut to 100 images');
  assert.notDeepEqual(e1, epochs(2));
  assert.deepEqual(e1, supervisedEpochRows(small, 100, 3)(1), 'the order depends only on seed and epoch');

  assert.deepEqual(sorted(supervisedEpochRows(small, 0, 3)(1)), Array.from(small), '0 means one pass over the labelled set');
});
