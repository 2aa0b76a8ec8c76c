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

test('supervised rounds are whole passes over the labelled set: every image once per pass', async () => {
  const { supervisedEpochRows, passesPerRoundFor } = await import('../lib/train/supervised');
  const small = pool.subarray(0, 30);
  const rounds = supervisedEpochRows(small, 4, 3);
  const r1 = rounds(1);
  assert.equal(r1.length, 120);
  for (let pass = 0; pass < 4; pass++) {
    assert.deepEqual(sorted(r1.subarray(pass * 30, (pass + 1) * 30)), Array.from(small), `pass ${pass + 1} visits each image once`);
  }
  assert.notDeepEqual(r1, rounds(2));
  assert.deepEqual(r1, supervisedEpochRows(small, 4, 3)(1), 'the order depends only on seed and round');
  assert.deepEqual(rounds(2).subarray(0, 30), supervisedEpochRows(small, 1, 3)(5), 'round 2 of 4 passes starts with pass 5');
  assert.deepEqual(sorted(supervisedEpochRows(small, 1, 3)(1)), Array.from(small), 'one pass per round');

  assert.equal(passesPerRoundFor({ freeze: false, roundImages: 100 }, 30), 4, 'ceil(100 / 30)');
  assert.equal(passesPerRoundFor({ freeze: false, roundImages: 100 }, 3000), 1, 'a large set: one pass per round');
  assert.equal(passesPerRoundFor({ freeze: false, roundImages: 0 }, 30), 1);
  assert.equal(passesPerRoundFor({ freeze: true, roundImages: 100 }, 30), 1, 'probes evaluate after every pass');
});

test('all-chunked: E epochs of fraction f are f x E plain passes, each image once per pass', () => {
  const sampler = new EpochSampler(pool, { mode: 'all-chunked', fraction: 0.25 }, 4);
  const quarter = pool.length / 4;
  const firstPass = Array.from({ length: 4 }, (_, e) => sampler.indicesForEpoch(e + 1));
  assert.ok(firstPass.every((rows) => rows.length === quarter));
  assert.deepEqual(sorted(Int32Array.from(firstPass.flatMap((rows) => Array.from(rows)))), Array.from(pool), 'epochs 1-4 cover the pool once');
  const secondPass = Array.from({ length: 4 }, (_, e) => Array.from(sampler.indicesForEpoch(e + 5))).flat();
  assert.deepEqual(sorted(Int32Array.from(secondPass)), Array.from(pool), 'epochs 5-8: the next pass');
  assert.notDeepEqual(secondPass, firstPass.flatMap((rows) => Array.from(rows)), 'each pass reshuffled');
  // a fraction that does not divide the pool: an epoch runs across the end of a pass
  const odd = new EpochSampler(pool, { mode: 'all-chunked', fraction: 0.3 }, 4);
  const size = Math.round(0.3 * pool.length);
  const joined = [1, 2, 3, 4].flatMap((e) => Array.from(odd.indicesForEpoch(e)));
  assert.equal(joined.length, 4 * size);
  assert.deepEqual(sorted(Int32Array.from(joined.slice(0, pool.length))), Array.from(pool));
});
