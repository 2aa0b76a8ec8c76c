import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sgdCosine } from '../lib/config/defaults';
import type { OptimizerConfig } from '../lib/config/types';
import { learningRateAt } from '../lib/optim/schedule';

const config: OptimizerConfig = { ...sgdCosine, learningRate: 1, finalLrFraction: 0.1, schedule: 'cosine' };
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

test('warm-up starts near zero and reaches the peak at its last step', () => {
  close(learningRateAt(0, 100, 10, config), 0.1); // peak / warmupSteps
  close(learningRateAt(4, 100, 10, config), 0.5);
  close(learningRateAt(9, 100, 10, config), 1);
  close(learningRateAt(10, 100, 10, config), 1); // first step after warm-up: cosine at progress 0
});

test('cosine passes half-way between peak and final at mid-decay and ends at the final fraction', () => {
  close(learningRateAt(55, 100, 10, config), 0.55); // progress 45/90 = 0.5: 0.1 + 0.9 * 0.5
  close(learningRateAt(100, 100, 10, config), 0.1);
  close(learningRateAt(150, 100, 10, config), 0.1); // past the end it stays at the final value
});

test('the learning rate never rises after warm-up', () => {
  for (let step = 10; step < 100; step++) {
    assert.ok(learningRateAt(step + 1, 100, 10, config) <= learningRateAt(step, 100, 10, config), `rises at ${step}`);
  }
  assert.ok(learningRateAt(99, 100, 10, config) > 0.1); // the last step taken is still above the floor
});

test('no warm-up starts at the peak; constant holds the peak', () => {
  close(learningRateAt(0, 100, 0, config), 1);
  const constant = { ...config, schedule: 'constant' as const };
  close(learningRateAt(0, 100, 10, constant), 0.1);
  close(learningRateAt(50, 100, 10, constant), 1);
  close(learningRateAt(100, 100, 10, constant), 1);
});
