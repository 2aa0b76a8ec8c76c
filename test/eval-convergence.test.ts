import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EarlyStopper, reachedPlateau, timeToAccuracy } from '../lib/eval/convergence';

test('plateau: the best of the last 20 % of evaluations within half a point of the best before them', () => {
  // 10 evaluations: the tail is the last 2; best before 0.60, best in the tail 0.604 -> plateau
  assert.equal(reachedPlateau([0.3, 0.4, 0.5, 0.55, 0.58, 0.59, 0.6, 0.6, 0.604, 0.6]), true);
  // still rising by a point in the tail -> no plateau
  assert.equal(reachedPlateau([0.3, 0.4, 0.5, 0.55, 0.58, 0.59, 0.6, 0.6, 0.61, 0.615]), false);
  // a falling tail (overfitting) is a plateau
  assert.equal(reachedPlateau([0.3, 0.5, 0.6, 0.55, 0.5]), true);
  // exactly half a point more counts as a plateau despite floating-point rounding
  assert.equal(reachedPlateau([0.1, 0.2, 0.3, 0.4, 0.405]), true);
  // cosine decay to the end of a short budget: every evaluation rises
  assert.equal(reachedPlateau([0.2, 0.3, 0.4]), false);
  assert.equal(reachedPlateau([0.5]), null);
  assert.equal(reachedPlateau([]), null);
  assert.equal(reachedPlateau([NaN, 0.5, NaN]), null);
});

test('time to accuracy: steps and seconds of the first evaluation at the target', () => {
  const curve = [
    { valAccuracy: 0.2, steps: 10, seconds: 1 },
    { valAccuracy: 0.45, steps: 20, seconds: 2.5 },
    { valAccuracy: 0.5, steps: 30, seconds: 4 },
    { valAccuracy: 0.49, steps: 40, seconds: 5 },
  ];
  assert.deepEqual(timeToAccuracy(curve, 0.45), { steps: 20, seconds: 2.5 });
  assert.deepEqual(timeToAccuracy(curve, 0.5), { steps: 30, seconds: 4 });
  assert.equal(timeToAccuracy(curve, 0.51), null);
  assert.equal(timeToAccuracy([], 0.1), null);
});

test('early stopping: improvements need minDelta; stop once patience epochs pass the best', () => {
  const stopper = new EarlyStopper({ patience: 2, minDelta: 0.01 });
  assert.equal(stopper.best, null);
  assert.deepEqual(stopper.update(1, 0.5), { improved: true, stop: false });
  assert.deepEqual(stopper.update(2, 0.505), { improved: false, stop: false }); // gain 0.005 < 0.01
  assert.deepEqual(stopper.update(3, 0.52), { improved: true, stop: false });
  assert.deepEqual(stopper.update(4, 0.53), { improved: true, stop: false }); // gain exactly 0.01 counts
  assert.deepEqual(stopper.update(5, 0.53), { improved: false, stop: false });
  assert.deepEqual(stopper.update(6, 0.535), { improved: false, stop: true }); // 6 - 4 = 2 epochs without
  assert.equal(stopper.best, 0.53);
  assert.equal(stopper.bestEpoch, 4);
});

test('a gain equal to minDelta counts despite rounding (0.3 - 0.2 < 0.1 in floating point)', () => {
  assert.ok(0.3 - 0.2 < 0.1);
  const stopper = new EarlyStopper({ patience: 1, minDelta: 0.1 });
  stopper.update(1, 0.2);
  assert.equal(stopper.update(2, 0.3).improved, true);
  assert.equal(stopper.update(3, 0.39).improved, false);
  assert.equal(stopper.update(4, NaN).improved, false);
});

test('patience 0 never stops; minDelta 0 still needs a strict gain', () => {
  const stopper = new EarlyStopper({ patience: 0, minDelta: 0 });
  stopper.update(1, 0.7);
  for (let epoch = 2; epoch < 50; epoch++) assert.deepEqual(stopper.update(epoch, 0.7), { improved: false, stop: false });
  assert.equal(stopper.bestEpoch, 1);
});

test('a stopper restored from JSON decides as the original would', () => {
  const config = { patience: 3, minDelta: 0.001 };
  const original = new EarlyStopper(config);
  [0.3, 0.6, 0.55].forEach((v, i) => original.update(i + 1, v));
  const restored = EarlyStopper.fromJSON(config, JSON.parse(JSON.stringify(original)));
  assert.equal(restored.best, 0.6);
  assert.equal(restored.bestEpoch, 2);
  for (const [epoch, value] of [[4, 0.58], [5, 0.59]]) assert.deepEqual(restored.update(epoch, value), original.update(epoch, value));
  assert.deepEqual(restored.update(5, 0.5), { improved: false, stop: true });
  assert.deepEqual(JSON.parse(JSON.stringify(new EarlyStopper(config))), { best: null, bestEpoch: null });
});
