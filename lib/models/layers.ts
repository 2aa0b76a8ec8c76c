/**
 * Layer primitives as plain functions over named variables: each factory registers its variables
 * under a stable path in a `ModuleVariables` and returns the forward function.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedBatchNormTrain, hasFusedBatchNorm } from 'tfjs-backend-onnx';
import type { Rng } from '../util/random';

/** The two variable maps of a module while it is being built (see `Module` in types.ts). */
export interface ModuleVariables {
  trainable: Map<string, tf.Variable>;
  state: Map<string, tf.Variable>;
}

export function emptyVariables(): ModuleVariables {
  return { trainable: new Map(), state: new Map() };
}

/** Releases every variable of the maps. */
export function disposeVariables(vars: ModuleVariables): void {
  for (const v of vars.trainable.values()) v.dispose();
  for (const v of vars.state.values()) v.dispose();
}

function addVariable(vars: ModuleVariables, path: string, value: tf.Tensor, trainable: boolean): tf.Variable {
  if (vars.trainable.has(path) || vars.state.has(path)) throw new Error(`variable path "${path}" is used twice`);
  // The tf name stays automatic: tfjs names are global, and two models may share paths.
  const variable = tf.variable(value, trainable);
  value.dispose();
  (trainable ? vars.trainable : vars.state).set(path, variable);
  return variable;
}

/**
 * PyTorch's default initialisation of conv and linear layers (kaiming_uniform with a = sqrt(5)):
 * uniform in +-1 / sqrt(fanIn), std 1 / sqrt(3 fanIn), from the seeded Rng. He-normal weights,
 * used before, are sqrt(6) times larger; behind batch norm that scales the effective learning rate
 * down by about 6 early in training, and the scratch ResNet ended 2.6 points lower after 4 epochs
 * (bench/scratch-init.ts: 49.5 against 52.1 % test accuracy, 2 seeds each, quick data).
 */
function pytorchDefault(shape: number[], fanIn: number, rng: Rng): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-bound, bound);
  return tf.tensor(values, shape);
}

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  /** square kernel side, pixels (odd) */
  kernelSize: number;
  stride: number;
}

/**
 * 2-D convolution without bias (batch norm follows every convolution here), PyTorch's default weights,
 * zero padding (kernelSize - 1) / 2 on every side as in PyTorch, so a stride-2 3x3 convolution and
 * its 1x1 shortcut sample the same pixel centres. Kernel [k, k, in, out]; x [B, H, W, in].
 */
export function conv2d(vars: ModuleVariables, path: string, opts: Conv2dOptions, rng: Rng) {
  const { inChannels, outChannels, kernelSize, stride } = opts;
  const fanIn = kernelSize * kernelSize * inChannels;
  const kernel = addVariable(
    vars, `${path}.kernel`,
    pytorchDefault([kernelSize, kernelSize, inChannels, outChannels], fanIn, rng), true,
  );
  const pad = (kernelSize - 1) / 2;
  return (x: tf.Tensor4D): tf.Tensor4D => tf.conv2d(x, kernel as tf.Tensor4D, stride, pad);
}

/** Batch-norm constants: running statistics follow momentum x old + (1 - momentum) x batch. */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

/** What follows a batch norm inside the same layer. */
export type BatchNormActivation = 'none' | 'relu';

/**
 * Batch norm over the last axis of x ([B, C] or [B, H, W, C]), optionally followed by a ReLU.
 * Training: normalise with the batch moments and update the running mean and (unbiased)
 * variance; inference: use the running ones. Trainable gamma, beta [C]; state runningMean,
 * runningVar [C]. In training, backends with fused kernels (onnx) run normalisation, ReLU and
 * their gradients as one op; the others compose tf ops, with the same result.
 */
export function batchNorm(vars: ModuleVariables, path: string, channels: number) {
  const gamma = addVariable(vars, `${path}.gamma`, tf.ones([channels]), true) as tf.Variable<tf.Rank.R1>;
  const beta = addVariable(vars, `${path}.beta`, tf.zeros([channels]), true) as tf.Variable<tf.Rank.R1>;
  const runningMean = addVariable(vars, `${path}.runningMean`, tf.zeros([channels]), false);
  const runningVar = addVariable(vars, `${path}.runningVar`, tf.ones([channels]), false);

  const updateRunningStats = (batchMean: tf.Tensor, batchVar: tf.Tensor, n: number) =>
    tf.tidy(() => {
      const unbiased = n > 1 ? tf.mul(batchVar, n / (n - 1)) : batchVar;
      runningMean.assign(tf.add(tf.mul(runningMean, BN_MOMENTUM), tf.mul(batchMean, 1 - BN_MOMENTUM)));
      runningVar.assign(tf.add(tf.mul(runningVar, BN_MOMENTUM), tf.mul(unbiased, 1 - BN_MOMENTUM)));
    });

  return <T extends tf.Tensor>(x: T, training: boolean, activation: BatchNormActivation = 'none'): T => {
    const n = x.size / channels;
    if (training && hasFusedBatchNorm()) {
      const { y, mean, variance } = fusedBatchNormTrain(x, gamma, beta, { epsilon: BN_EPSILON, relu: activation === 'relu' });
      updateRunningStats(mean, variance, n);
      tf.dispose([mean, variance]);
      return y;
    }
    let mean: tf.Tensor = runningMean;
    let variance: tf.Tensor = runningVar;
    if (training) {
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      ({ mean, variance } = tf.moments(x, axes));
      updateRunningStats(mean, variance, n);
    }
    // y = (x - mean) / sqrt(var + eps) * gamma + beta, folded into one scale and one shift per channel.
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON))); // [C]
    const shift = tf.sub(beta, tf.mul(mean, scale)); // [C]
    const y = tf.add(tf.mul(x, scale), shift) as T;
    return activation === 'relu' ? tf.relu(y) : y;
  };
}

export interface DenseOptions {
  inDim: number;
  outDim: number;
  /** add a bias (leave it out when batch norm follows) */
  bias: boolean;
}

/** Fully connected layer: x [B, inDim] -> [B, outDim]; kernel [inDim, outDim], bias [outDim], both with PyTorch's default initialisation. */
export function dense(vars: ModuleVariables, path: string, opts: DenseOptions, rng: Rng) {
  const kernel = addVariable(
    vars, `${path}.kernel`, pytorchDefault([opts.inDim, opts.outDim], opts.inDim, rng), true,
  );
  const bias = opts.bias ? addVariable(vars, `${path}.bias`, pytorchDefault([opts.outDim], opts.inDim, rng), true) : undefined;
  return (x: tf.Tensor2D): tf.Tensor2D => {
    const y = tf.matMul(x, kernel) as tf.Tensor2D; // [B, outDim]
    return bias === undefined ? y : (tf.add(y, bias) as tf.Tensor2D);
  };
}

/**
 * Mean over height and width, [B, H, W, C] -> [B, C]. Its gradient spreads dy / (H * W) over the
 * map with one tile, where tf.mean's own gradient fills a map with ones, multiplies dy into it and
 * divides by H * W: three passes over the map per step. The values are the same bit for bit (dy * 1
 * is dy, so both divide the same numbers by the same H * W; test/models-encoders.test.ts).
 */
export function globalAveragePool(x: tf.Tensor4D): tf.Tensor2D {
  const pool = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor4D;
    const [batch, height, width, channels] = input.shape;
    return {
      value: tf.mean(input, [1, 2]),
      gradFunc: (dy: tf.Tensor) => tf.tile(tf.reshape(tf.div(dy, height * width), [batch, 1, 1, channels]), [1, height, width, 1]),
    };
  });
  return pool(x) as tf.Tensor2D;
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}
