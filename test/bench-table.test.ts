import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BenchCase, benchTable } from '../lib/experiments/bench';

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

test('median: the middle value, the mean of the middle two for an even count, an error for none', async () => {
  const { median } = await import('../lib/util/median');
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
});
