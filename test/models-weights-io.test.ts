import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EncoderConfig } from '../lib/config/types';
import { makeEncoder } from '../lib/models/make-encoder';
import type { Encoder } from '../lib/models/types';
import { loadModuleWeights, restoreWeights, saveModule, snapshotWeights } from '../lib/models/weights-io';
import { UserError } from '../lib/util/errors';
import { Rng } from '../lib/util/random';

const config: EncoderConfig = { kind: 'resnet', width: 4, blocksPerStage: [1, 1] };
let tmp = '';

before(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-io-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function images(seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.next()), [2, 32, 32, 3]);
}

/** Inference features as plain numbers. */
function features(encoder: Encoder, x: tf.Tensor4D): number[] {
  return tf.tidy(() => Array.from(encoder.apply(x, false).dataSync()));
}

/** An encoder whose running statistics are no longer the initial ones. */
function trainedEncoder(seed: number): Encoder {
  const encoder = makeEncoder(config, new Rng(seed));
  const x = images(seed + 10);
  tf.dispose(encoder.apply(x, true));
  x.dispose();
  return encoder;
}

test('save then load into a fresh encoder gives identical outputs', () => {
  const dir = path.join(tmp, 'round-trip');
  const source = trainedEncoder(1);
  saveModule(source, dir, { epochs: 3 });
  const target = makeEncoder(config, new Rng(2));
  const x = images(5);
  assert.notDeepEqual(features(target, x), features(source, x));
  const manifest = loadModuleWeights(target, dir);
  assert.deepEqual(manifest.extra, { epochs: 3 });
  assert.deepEqual(features(target, x), features(source, x));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['manifest.json', 'weights.bin']);
  x.dispose();
  source.dispose();
  target.dispose();
});

test('loading into another architecture fails naming both', () => {
  const dir = path.join(tmp, 'other');
  const source = makeEncoder(config, new Rng(1));
  saveModule(source, dir);
  const other = makeEncoder({ ...config, width: 8 }, new Rng(1));
  assert.throws(() => loadModuleWeights(other, dir), (err: unknown) =>
    err instanceof UserError && err.message.includes('resnet(width=4') && err.message.includes('resnet(width=8'));
  source.dispose();
  other.dispose();
});

test('a missing folder or weights file is a clear UserError', () => {
  const encoder = makeEncoder(config, new Rng(1));
  assert.throws(() => loadModuleWeights(encoder, path.join(tmp, 'nowhere')), (err: unknown) =>
    err instanceof UserError && err.message.includes('nowhere'));
  const dir = path.join(tmp, 'no-bin');
  saveModule(encoder, dir);
  fs.rmSync(path.join(dir, 'weights.bin'));
  assert.throws(() => loadModuleWeights(encoder, dir), (err: unknown) =>
    err instanceof UserError && err.message.includes('weights.bin'));
  encoder.dispose();
});

test('snapshot and restore bring back weights and running statistics', () => {
  const encoder = trainedEncoder(3);
  const x = images(6);
  const expected = features(encoder, x);
  const snapshot = snapshotWeights(encoder);
  const before = tf.memory().numTensors;
  tf.dispose(encoder.apply(x, true));
  for (const v of encoder.trainable.values()) tf.tidy(() => v.assign(tf.mul(v, 1.5)));
  assert.notDeepEqual(features(encoder, x), expected);
  restoreWeights(encoder, snapshot);
  assert.deepEqual(features(encoder, x), expected);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  encoder.dispose();
});

test('a run from a saved encoder is identified by the configuration that encoder was trained with, not only by its folder', async () => {
  const { supervisedRunHash } = await import('../lib/train/supervised');
  const { defaultSupervised } = await import('../lib/config/defaults');
  const { configHash } = await import('../lib/config/hash');
  const dir = path.join(tmp, 'identity-encoder');
  const encoder = makeEncoder(config, new Rng(1));
  const run = { ...defaultSupervised, encoder: config, init: dir };
  saveModule(encoder, dir, { configHash: 'pretrain-a' });
  const first = supervisedRunHash(run);
  assert.equal(first, supervisedRunHash(run, 'pretrain-a'), 'the manifest and a caller who knows the hash agree');
  saveModule(encoder, dir, { configHash: 'pretrain-b' });
  assert.notEqual(supervisedRunHash(run), first, 'a retrained encoder in the same folder is another run');
  encoder.dispose();
  assert.equal(supervisedRunHash({ ...run, init: 'scratch' }), configHash({ ...run, init: 'scratch' }));
  assert.throws(() => supervisedRunHash({ ...run, init: path.join(tmp, 'missing') }), /does not exist; pass --init scratch/);
});
