/**
 * A width-16 CIFAR ResNet supervised training step built from plain tf ops: 3 stages x 2 basic
 * blocks of conv-bn-relu (batch statistics), global average pool, dense, softmax cross-entropy,
 * SGD. The project's own encoders live in lib/models; this copy keeps the benchmark fixed.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../lib/util/random';

const WIDTH = 16;
const BLOCKS_PER_STAGE = 2;
const STAGES = 3;
const CLASSES = 10;
const LEARNING_RATE = 0.05;
const BN_EPSILON = 1e-5;

type Layer = (x: tf.Tensor4D) => tf.Tensor4D;

/** He-normal weights from the seeded Rng. */
function heNormal(shape: number[], fanIn: number, rng: Rng): tf.Variable {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
  return tf.variable(tf.tensor(values, shape));
}

/** conv (pad (k-1)/2) -> batch norm with batch statistics -> optional ReLU. */
function convBn(vars: tf.Variable[], inC: number, outC: number, k: number, stride: number, relu: boolean, rng: Rng): Layer {
  const kernel = heNormal([k, k, inC, outC], k * k * inC, rng);
  const gamma = tf.variable(tf.ones([outC]));
  const beta = tf.variable(tf.zeros([outC]));
  vars.push(kernel, gamma, beta);
  return (x) => {
    const y = tf.conv2d(x, kernel as tf.Tensor4D, stride, (k - 1) / 2);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON))); // [C]
    const shift = tf.sub(beta, tf.mul(mean, scale)); // [C]
    const normed = tf.add(tf.mul(y, scale), shift) as tf.Tensor4D;
    return relu ? tf.relu(normed) : normed;
  };
}

/** The network: images [B, 32, 32, 3] -> logits [B, 10], and its variables. */
export function makeNetwork(seed: number): { forward: (x: tf.Tensor4D) => tf.Tensor2D; vars: tf.Variable[] } {
  const rng = new Rng(seed);
  const vars: tf.Variable[] = [];
  const stem = convBn(vars, 3, WIDTH, 3, 1, true, rng);
  const blocks: Layer[] = [];
  let channels = WIDTH;
  for (let s = 0; s < STAGES; s++) {
    const outC = WIDTH * 2 ** s;
    for (let b = 0; b < BLOCKS_PER_STAGE; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const conv1 = convBn(vars, channels, outC, 3, stride, true, rng);
      const conv2 = convBn(vars, outC, outC, 3, 1, false, rng);
      const shortcut = stride !== 1 || channels !== outC ? convBn(vars, channels, outC, 1, stride, false, rng) : (x: tf.Tensor4D) => x;
      blocks.push((x) => tf.relu(tf.add(conv2(conv1(x)), shortcut(x)) as tf.Tensor4D));
      channels = outC;
    }
  }
  const dense = heNormal([channels, CLASSES], channels, rng);
  const bias = tf.variable(tf.zeros([CLASSES]));
  vars.push(dense, bias);
  const forward = (x: tf.Tensor4D) => {
    let h = stem(x);
    for (const block of blocks) h = block(h);
    const features = tf.mean(h, [1, 2]) as tf.Tensor2D; // [B, C]
    return tf.add(tf.matMul(features, dense), bias) as tf.Tensor2D; // [B, 10]
  };
  return { forward, vars };
}

/** A training step on fixed random images [batch, 32, 32, 3] and labels; `dispose` frees it all. */
export function makeTrainingStep(batch: number, seed = 1): { step: () => void; dispose: () => void } {
  const rng = new Rng(seed + 6);
  const { forward, vars } = makeNetwork(seed);
  const pixels = new Float32Array(batch * 32 * 32 * 3).map(() => rng.next());
  const images = tf.tensor4d(pixels, [batch, 32, 32, 3]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, () => rng.int(CLASSES)), 'int32'), CLASSES);
  const optimizer = tf.train.sgd(LEARNING_RATE);
  const step = () =>
    tf.tidy(() => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward(images)) as tf.Scalar, true, vars);
      loss?.dataSync();
    });
  const dispose = () => {
    tf.dispose([images, labels, ...vars]);
    optimizer.dispose();
  };
  return { step, dispose };
}
