/**
 * Training-mode batch norm (optionally followed by a ReLU) as one op with its own gradient, for
 * backends that implement it as a kernel. Built from separate tf ops, a batch norm costs about 7
 * passes over the activations forward and 18 backward, plus a few dozen small-op dispatches; the
 * fused kernels need 2 and 2. Backends without the kernels (tensorflow, wasm, cpu) keep the
 * composed ops, and their automatic gradients.
 */
import * as tf from '@tensorflow/tfjs';

/** Kernel: inputs x [..., C], gamma [C], beta [C] -> y (shape of x), batch mean [C], biased batch variance [C]. */
export const BATCH_NORM_TRAIN = 'CifarSslBatchNormTrain';
/** Kernel: inputs x, dy, gamma, beta, mean, variance -> dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = 'CifarSslBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  epsilon: number;
  /** apply max(., 0) to the output (and mask the gradient) */
  relu: boolean;
}

/** Whether the active backend has the fused kernels. */
export function hasFusedBatchNorm(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(BATCH_NORM_TRAIN, backend) !== undefined && tf.getKernel(BATCH_NORM_TRAIN_GRAD, backend) !== undefined;
}

export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  /** batch statistics; tracked by no scope, the caller disposes them */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = [relu]((x - mean) / sqrt(variance + epsilon) * gamma + beta) with the batch's mean and
 * biased variance over every axis but the last, differentiable in x, gamma and beta (the
 * gradient flows through the batch statistics). Requires hasFusedBatchNorm().
 */
export function fusedBatchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, attrs: BatchNormTrainAttrs): BatchNormTrainResult<T> {
  const engine = tf.engine();
  const kernelAttrs = attrs as unknown as tf.NamedAttrMap;
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, gammaIn, betaIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = engine.runKernel(BATCH_NORM_TRAIN, { x: xIn, gamma: gammaIn, beta: betaIn }, kernelAttrs) as tf.Tensor[];
    save([xIn, gammaIn, betaIn, mean, variance]);
    // The forward function runs inside a tidy that keeps only `value`: the statistics leave by keep().
    stats = [tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, g, b, m, v] = saved;
        return engine.runKernel(BATCH_NORM_TRAIN_GRAD, { x: xs, dy, gamma: g, beta: b, mean: m, variance: v }, kernelAttrs) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta) as T;
  if (stats === undefined) throw new Error(`${BATCH_NORM_TRAIN} returned no statistics`);
  return { y, mean: stats[0], variance: stats[1] };
}
