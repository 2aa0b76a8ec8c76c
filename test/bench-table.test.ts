import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BenchCase, benchTable, roundsSummary, stepTimeRatio } from '../lib/experiments/bench';

const bench = (backend: 'onnx' | 'wasm', step: 'simclr' | 'supervised', imagesPerSecond: number): BenchCase =>
  ({ preset: 'quick', step, backend, batchSize: 128, imagesPerSecond, stepMs: 128000 / imagesPerSecond, roundStepMs: [128000 / imagesPerSecond], kernels: [] });

test('the benchmark table shows each backend, the speed-up over the last one, and the step-time ratio to PyTorch', () => {
  const cases = [bench('onnx', 'simclr', 150), bench('wasm', 'simclr', 50), bench('onnx', 'supervised', 300)];
  const reference = { label: 'PyTorch 1.13', cases: [{ preset: 'quick', step: 'simclr' as const, batchSize: 128, imagesPerSecond: 300, stepMs: 427 }] };
  const lines = benchTable(cases, reference).split('\n');
  assert.equal(lines[0], "| preset | step | batch | onnx (images/s) | wasm (images/s) | onnx / wasm | PyTorch 1.13 (images/s) | onnx step time / PyTorch 1.13's |");
  assert.equal(lines[2], '| quick | simclr | 128 | 150 | 50 | 3.0x | 300 | 2.0x |');
  assert.equal(lines[3], '| quick | supervised | 128 | 300 | – | – | – | – |', 'missing cases are dashes, not zeros');
  assert.equal(benchTable(cases).split('\n')[2], '| quick | simclr | 128 | 150 | 50 | 3.0x |', 'no reference, no reference columns');
});

test('the ratio to PyTorch pairs the steps timed in the same round', () => {
  // Round 2 was busy for both. The medians (150 ms and 80 ms) pair our busy round with PyTorch's
  // quiet ones, 1.875; round by round the ratios are 1.5, 1.5 and 2.0, median 1.5.
  const ours: BenchCase = { ...bench('onnx', 'supervised', 128000 / 150), roundStepMs: [120, 150, 160] };
  const reference = { preset: 'quick', step: 'supervised' as const, batchSize: 128, imagesPerSecond: 128000 / 80, stepMs: 80, roundStepMs: [80, 100, 80] };
  assert.equal(stepTimeRatio(ours, reference), 1.5);
  assert.equal(stepTimeRatio(ours, { ...reference, roundStepMs: undefined }), 1.875, 'without rounds: the ratio of the medians');
  assert.equal(stepTimeRatio({ ...ours, roundStepMs: [150] }, reference), 1.875, 'rounds that do not pair up: the ratio of the medians');
  const table = benchTable([ours], { label: 'PyTorch 1.13', cases: [reference] }).split('\n');
  assert.equal(table[2], '| quick | supervised | 128 | 853 | 1600 | 1.5x |');
  assert.equal(roundsSummary([ours], { label: 'PyTorch 1.13', cases: [reference] }), 'onnx quick supervised 120 / 150 / 160; PyTorch 1.13 quick supervised 80 / 100 / 80');
});

test('median: the middle value, the mean of the middle two for an even count, an error for none', async () => {
  const { median } = await import('../lib/util/median');
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
});
