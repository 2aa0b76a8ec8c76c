/**
 * Memory behaviour of the 'onnx' backend: training steps leave the tensor count and the SIMD
 * arena's size flat, recycled buffers never overwrite data a caller still holds (dataSync arrays,
 * views made by other kernels), and registration is idempotent. Skipped when onnxruntime-node
 * cannot load.
 */
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type OnnxBackend, ONNX_BACKEND_NAME, onnxKernelNames, registerOnnxBackend, onnxUnavailableReason } from 'tfjs-backend-onnx';
import { batchNorm, disposeVariables, emptyVariables } from '../lib/models/layers';
import { Rng } from '../lib/util/random';

const skip = onnxUnavailableReason(() => registerOnnxBackend({ threads: 2 }));

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

describe('onnx backend memory', { skip }, () => {
  before(async () => {
    await tf.setBackend(ONNX_BACKEND_NAME);
  });

  test('training steps keep the tensor count and the arena size flat (fused batch norm included)', () => {
    const w1 = tf.variable(randomTensor([3, 3, 3, 16], 1).mul(0.2));
    const w2 = tf.variable(randomTensor([3, 3, 16, 16], 2).mul(0.1));
    const dense = tf.variable(randomTensor([16, 10], 3).mul(0.1));
    const bnVars = emptyVariables();
    const bn = batchNorm(bnVars, 'bn', 16);
    const images = randomTensor([8, 16, 16, 3], 4);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const optimizer = tf.train.sgd(0.01);
    const step = () =>
      tf.tidy(() => {
        optimizer.minimize(() => {
          const h = bn(tf.conv2d(images as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), true, 'relu');
          const y = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'same'), h));
          return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.mean(y, [1, 2]), dense)) as tf.Scalar;
        }, false, [w1, w2, dense, ...bnVars.trainable.values()]);
      });
    step();
    step();
    const arena = (tf.backend() as OnnxBackend).arena;
    const [tensors, arenaBytes] = [tf.memory().numTensors, arena?.usedBytes];
    for (let i = 0; i < 4; i++) step();
    assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
    assert.equal(arena?.usedBytes, arenaBytes, 'the arena grew: freed blocks are not reused');
    tf.dispose([w1, w2, dense, images, labels]);
    disposeVariables(bnVars);
    optimizer.dispose();
  });

  test('an array from dataSync() survives the reuse of its buffer', () => {
    const x = randomTensor([64, 128], 5);
    const y = tf.mul(x, 2); // a recycled output buffer
    const values = y.dataSync();
    const copy = Float32Array.from(values);
    y.dispose();
    const others = [1, 2, 3].map((k) => tf.mul(x, k + 5)); // may take y's old buffer
    assert.deepEqual(Array.from(values), Array.from(copy));
    tf.dispose([x, ...others]);
  });

  test('a view another kernel made keeps its buffer from reuse', () => {
    const x = randomTensor([64, 128], 6);
    const y = tf.add(x, 1);
    const half = tf.slice(y, [0, 0], [32, 128]); // the cpu slice shares y's buffer
    const expected = Array.from(half.dataSync());
    y.dispose();
    const others = [1, 2, 3].map((k) => tf.add(x, k + 5));
    assert.deepEqual(Array.from(half.dataSync()), expected);
    tf.dispose([x, half, ...others]);
  });

  test('registration is idempotent and names the kernels it replaces', () => {
    registerOnnxBackend();
    registerOnnxBackend({ threads: 1 });
    const names = onnxKernelNames();
    for (const name of [tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.BatchMatMul, tf.Sum, tf.Relu, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD]) {
      assert.ok(names.includes(name), `${name} missing`);
    }
    assert.ok(tf.getKernel(tf.Transpose, ONNX_BACKEND_NAME) !== undefined, 'cpu kernels are registered too');
  });
});
