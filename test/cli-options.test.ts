import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyOverrides } from '../lib/cli/options';
import { defaultPretrain } from '../lib/config/defaults';
import { UsageError } from '../lib/util/errors';

test('--set parses each value to the type of the field it replaces and leaves the original alone', () => {
  const changed = applyOverrides(defaultPretrain, [
    'optimizer.momentum=0.95', 'onlineProbe=false', 'encoder.blocksPerStage=1,1', 'optimizer.schedule=constant', 'sampling.mode=fresh-subset',
  ]);
  assert.equal(changed.optimizer.momentum, 0.95);
  assert.equal(changed.onlineProbe, false);
  assert.deepEqual(changed.encoder.blocksPerStage, [1, 1]);
  assert.equal(changed.optimizer.schedule, 'constant');
  assert.equal(changed.sampling.mode, 'fresh-subset');
  assert.equal(defaultPretrain.optimizer.momentum, 0.9, 'the preset object is not modified');
});

test('--set refuses what would silently do nothing or something else: unknown paths, bad numbers, values outside a closed set', () => {
  const refuses = (override: string, message: RegExp): void =>
    assert.throws(() => applyOverrides(defaultPretrain, [override]), (err: Error) => err instanceof UsageError && message.test(err.message));
  refuses('optimizer.momentun=0.9', /unknown configuration path "optimizer.momentun"/);
  refuses('epochs=ten', /epochs: expected a number, got "ten"/);
  refuses('onlineProbe=yes', /expected true or false/);
  refuses('optimizer.schedule=cosin', /optimizer.schedule: expected one of cosine, constant, got "cosin"/);
  refuses('sampling.mode=random', /expected one of all, fixed-subset, fresh-subset/);
  refuses('momentum', /expects key=value/);
});
