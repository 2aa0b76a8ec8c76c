import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { resnet18 } from '../lib/config/defaults';
import type { EncoderConfig } from '../lib/config/types';
import { makeLinearClassifier, makeProjectionHead } from '../lib/models/heads';
import { globalAveragePool } from '../lib/models/layers';
import { makeEncoder } from '../lib/models/make-encoder';
import type { Module } from '../lib/models/types';
import { countParameters } from '../lib/models/weights-io';
import { UsageError } from '../lib/util/errors';
import { Rng } from '../lib/util/random';

before(async () => {
  await tf.setBackend('cpu');
});

const tinyResnet: EncoderConfig = { kind: 'resnet', width: 4, blocksPerStage: [1, 2] };
const tinyCnn: EncoderConfig = { kind: 'basic-cnn', width: 2, blocksPerStage: [] };

function images(b: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * 32 * 32 * 3 }, () => rng.next()), [b, 32, 32, 3]);
}

function values(vars: Map<string, tf.Variable>): Map<string, number[]> {
  return new Map([...vars].map(([name, v]) => [name, Array.from(v.dataSync())]));
}

test('ResNet-18 has 11.17M parameters and 512 features', () => {
  const encoder = makeEncoder(resnet18, new Rng(0));
  // torchvision's CIFAR ResNet-18 without its fc layer: 11,173,962 - 5,130
  assert.equal(countParameters(encoder), 11_168_832);
  assert.equal(encoder.featureDim, 512);
  encoder.dispose();
});

test('encoders map [B, 32, 32, 3] to [B, featureDim]', () => {
  for (const [config, featureDim] of [[tinyResnet, 8], [tinyCnn, 32]] as const) {
    const encoder = makeEncoder(config, new Rng(0));
    assert.equal(encoder.featureDim, featureDim);
    const x = images(3, 1);
    const h = encoder.apply(x, false);
    assert.deepEqual(h.shape, [3, featureDim]);
    tf.dispose([x, h]);
    encoder.dispose();
  }
});

test('stride-2 stages use a projection shortcut; same-shape blocks do not', () => {
  const encoder = makeEncoder(tinyResnet, new Rng(0));
  assert.ok(encoder.trainable.has('stage2.block0.shortcut.conv.kernel'));
  assert.ok(!encoder.trainable.has('stage1.block0.shortcut.conv.kernel'));
  assert.ok(!encoder.trainable.has('stage2.block1.shortcut.conv.kernel'));
  assert.deepEqual(encoder.trainable.get('stage2.block0.conv1.kernel')?.shape, [3, 3, 4, 8]);
  assert.ok(encoder.state.has('stem.bn.runningMean'));
  encoder.dispose();
});

test('the same seed gives the same weights; another seed does not', () => {
  const [a, b, c] = [0, 0, 1].map((seed) => makeEncoder(tinyResnet, new Rng(seed)));
  const kernel = (m: Module) => Array.from(m.trainable.get('stem.conv.kernel')!.dataSync());
  assert.deepEqual(kernel(a), kernel(b));
  assert.notDeepEqual(kernel(a), kernel(c));
  [a, b, c].forEach((m) => m.dispose());
});

test('training mode updates the batch-norm running statistics; inference mode changes nothing', () => {
  for (const config of [tinyResnet, tinyCnn]) {
    const encoder = makeEncoder(config, new Rng(0));
    const x = images(4, 2);
    const initial = values(encoder.state);
    const trainableBefore = values(encoder.trainable);
    const first = encoder.apply(x, false);
    const second = encoder.apply(x, false);
    assert.deepEqual(values(encoder.state), initial);
    assert.deepEqual(Array.from(first.dataSync()), Array.from(second.dataSync()));

    tf.dispose(encoder.apply(x, true));
    const updated = values(encoder.state);
    assert.notDeepEqual(updated.get('stem.bn.runningMean') ?? updated.get('conv1.bn.runningMean'), initial.get('stem.bn.runningMean') ?? initial.get('conv1.bn.runningMean'));
    assert.deepEqual(values(encoder.trainable), trainableBefore);
    tf.dispose([x, first, second]);
    encoder.dispose();
  }
});

test('batch norm running mean moves 10% of the way to the batch mean per training step', () => {
  const head = makeLinearClassifier(2, 2, new Rng(0)); // no BN: check it has no state
  assert.equal(head.state.size, 0);
  head.dispose();
  const projection = makeProjectionHead(3, { hiddenDim: 2, outputDim: 2 }, new Rng(0));
  const h = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]);
  const preBn = tf.tidy(() => tf.matMul(h, projection.trainable.get('hidden.kernel')!)); // [4, 2]
  const batchMean = Array.from(tf.tidy(() => tf.mean(preBn, 0)).dataSync());
  tf.dispose(projection.apply(h, true));
  const running = Array.from(projection.state.get('hidden.bn.runningMean')!.dataSync());
  running.forEach((v, i) => assert.ok(Math.abs(v - 0.1 * batchMean[i]) < 1e-6));
  tf.dispose([h, preBn]);
  projection.dispose();
});

test('heads give projections [B, outputDim] and logits [B, classes]', () => {
  const head = makeProjectionHead(8, { hiddenDim: 16, outputDim: 4 }, new Rng(0));
  const classifier = makeLinearClassifier(8, 10, new Rng(0));
  const h = tf.ones([5, 8]);
  const z = head.apply(h, true);
  const logits = classifier.apply(h, false);
  assert.deepEqual(z.shape, [5, 4]);
  assert.deepEqual(logits.shape, [5, 10]);
  assert.equal(countParameters(classifier), 8 * 10 + 10);
  tf.dispose([h, z, logits]);
  head.dispose();
  classifier.dispose();
});

test('repeated apply calls leave no tensors behind; dispose releases the variables', () => {
  const before = tf.memory().numTensors;
  const encoder = makeEncoder(tinyResnet, new Rng(0));
  const x = images(2, 3);
  tf.dispose(encoder.apply(x, true));
  const afterFirst = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      encoder.apply(x, true);
      encoder.apply(x, false);
    });
  }
  assert.equal(tf.memory().numTensors, afterFirst);
  x.dispose();
  encoder.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('gradients of a small encoder and head are finite and nonzero', () => {
  for (const config of [tinyResnet, tinyCnn]) {
    const encoder = makeEncoder(config, new Rng(0));
    const head = makeProjectionHead(encoder.featureDim, { hiddenDim: 8, outputDim: 4 }, new Rng(1));
    const x = images(2, 4);
    const varList = [...encoder.trainable.values(), ...head.trainable.values()];
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(head.apply(encoder.apply(x, true), true))) as tf.Scalar, varList);
    assert.equal(Object.keys(grads).length, varList.length);
    let norm = 0;
    for (const g of Object.values(grads)) {
      const data = g.dataSync();
      assert.ok(data.every(Number.isFinite));
      norm += Array.from(data).reduce((s, v) => s + v * v, 0);
    }
    assert.ok(norm > 0);
    tf.dispose([value, x, ...Object.values(grads)]);
    encoder.dispose();
    head.dispose();
  }
});

test('the global average pool gives tf.mean\'s values and gradient bit for bit', () => {
  // 7 x 5 = 35 pixels: a divisor that is not a power of two, so a different rounding would show.
  const rng = new Rng(6);
  const x = tf.tensor4d(Float32Array.from({ length: 3 * 7 * 5 * 4 }, () => rng.normal()), [3, 7, 5, 4]);
  const dy = tf.tensor2d(Float32Array.from({ length: 3 * 4 }, () => rng.normal()), [3, 4]);
  const ours = tf.grad((v: tf.Tensor) => globalAveragePool(v as tf.Tensor4D));
  const reference = tf.grad((v: tf.Tensor) => tf.mean(v, [1, 2]));
  const [pooled, expectedPooled] = [globalAveragePool(x), tf.mean(x, [1, 2])];
  const [dx, expectedDx] = [ours(x, dy), reference(x, dy)];
  assert.deepEqual(pooled.shape, [3, 4]);
  assert.deepEqual(Array.from(pooled.dataSync()), Array.from(expectedPooled.dataSync()));
  assert.deepEqual(dx.shape, x.shape);
  assert.deepEqual(Array.from(dx.dataSync()), Array.from(expectedDx.dataSync()));
  tf.dispose([x, dy, pooled, expectedPooled, dx, expectedDx]);
});

test('makeEncoder rejects bad arguments with a UsageError', () => {
  const bad: EncoderConfig[] = [
    { ...tinyResnet, width: 0 },
    { ...tinyResnet, width: 2.5 },
    { ...tinyResnet, blocksPerStage: [] },
    { ...tinyResnet, blocksPerStage: [2, 0] },
    { ...tinyResnet, kind: 'vgg' as EncoderConfig['kind'] },
  ];
  for (const config of bad) assert.throws(() => makeEncoder(config, new Rng(0)), UsageError, JSON.stringify(config));
  assert.throws(() => makeProjectionHead(8, { hiddenDim: 0, outputDim: 4 }, new Rng(0)), UsageError);
});
