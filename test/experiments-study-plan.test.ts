import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { PRESETS, PRESET_NAMES, validatePreset } from '../lib/config/presets';
import { checkpointEpochs, computeMatchedImages } from '../lib/experiments/study';
import { UsageError } from '../lib/util/errors';

test('pretraining checkpoints: each fraction of the epochs, rounded, before the last, no repeats', () => {
  assert.deepEqual(checkpointEpochs(4, [0.25, 0.5, 0.75]), [1, 2, 3]);
  assert.deepEqual(checkpointEpochs(6, [0.25, 0.5, 0.75]), [2, 3, 5]);
  assert.deepEqual(checkpointEpochs(2, [0.25, 0.5, 0.75]), [1], 'rounded to 1, 1 and 2; the last epoch is the final encoder');
  assert.deepEqual(checkpointEpochs(1, [0.5]), []);
});

test('compute-matched images: two views per pretraining image and step, plus the probe\'s extracted images', () => {
  const quick = PRESETS.quick.pretrain;
  // 4 epochs of floor(10,000 / 128) = 78 steps of 128 images, two views each; 10,000 + 1,000 extracted
  assert.equal(computeMatchedImages(quick, 10000, 1000), 2 * 4 * 78 * 128 + 11000);
  const subset = { ...quick, sampling: { mode: 'fresh-subset' as const, fraction: 0.2 } };
  assert.equal(computeMatchedImages(subset, 10000, 1000), 2 * 4 * Math.floor(2000 / 128) * 128 + 11000);
});

test('every preset is valid; a bad study field is a usage error that names it', () => {
  for (const name of PRESET_NAMES) assert.doesNotThrow(() => validatePreset(PRESETS[name]), name);
  const bad: Array<[Partial<typeof PRESETS.quick>, RegExp]> = [
    [{ trainLabelPcts: [100, 5] }, /trainLabelPcts \[100,5\] must be a subset of labelPcts/],
    [{ trainSeeds: [0, 7] }, /add \[0,7\] to probeSeeds/],
    [{ finetuneLrGrid: [] }, /finetuneLrGrid must be a non-empty list/],
    [{ finetuneLrSearchPcts: [50] }, /finetuneLrSearchPcts \[50\] must be a non-empty subset of trainLabelPcts/],
    [{ checkpointFractions: [1] }, /checkpointFractions must lie in \(0, 1\)/],
    [{ ablation: { fraction: 0.1, epochs: 5, seeds: [], labelPct: 10 } }, /ablation.seeds must be a non-empty list/],
    [{ ablation: { fraction: 1.5, epochs: 5, seeds: [0], labelPct: 10 } }, /ablation.fraction must be in \(0, 1\]/],
    [{ scratch: { ...PRESETS.quick.scratch, roundImages: -1 } }, /roundImages must be a non-negative integer, got -1/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => validatePreset({ ...PRESETS.quick, ...change }), (err: unknown) => err instanceof UsageError && message.test(err.message) && err.message.startsWith('preset quick:'), JSON.stringify(change));
  }
});
