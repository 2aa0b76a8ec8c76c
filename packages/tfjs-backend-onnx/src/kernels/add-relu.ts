/**
 * The fused residual add + ReLU (src/ops/fused-add-relu.ts): one SIMD pass each way where the
 * tensors lie in the arena; elsewhere this backend's own Add, Relu, Step and Multiply kernels in
 * turn, so the results are theirs in every case.
 */
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU, RELU_GRAD } from '../ops/fused-add-relu';
import type { OnnxBackend } from '../backend';
import { elementwiseJob, elementwiseKernels } from './elementwise';
import type { OnnxKernel, OnnxKernelArgs } from './kernel-utils';

function elementwise(kernelName: string): tf.KernelFunc {
  const kernel = elementwiseKernels.find((k) => k.kernelName === kernelName);
  if (kernel === undefined) throw new Error(`the onnx backend has no ${kernelName} kernel`);
  return kernel.kernelFunc;
}

/** `second` on the result of `first`, whose tensor is freed afterwards: a composed fallback. */
function thenFree(backend: OnnxBackend, first: tf.TensorInfo, second: (t: tf.TensorInfo) => tf.TensorInfo): tf.TensorInfo {
  try {
    return second(first);
  } finally {
    backend.disposeData(first.dataId);
  }
}

function checkSameShape(kernelName: string, first: tf.TensorInfo, second: tf.TensorInfo): void {
  if (first.dtype !== 'float32' || second.dtype !== 'float32' || !tf.util.arraysEqual(first.shape, second.shape)) {
    throw new Error(`${kernelName}: both inputs must be float32 of one shape; got ${first.dtype}[${first.shape}] and ${second.dtype}[${second.shape}]`);
  }
}

/**
 * The SIMD `kernel` (a, b, out, n) on the arrays when both of them (and an output block) are in
 * the arena, as a row pass (shared with the row thread where there is one), else `composed`.
 */
function inArenaOr(
  backend: OnnxBackend, shape: readonly number[], inputs: [Float32Array, Float32Array],
  kernel: 'addRelu' | 'reluGrad', composed: () => tf.TensorInfo,
): tf.TensorInfo {
  const arena = backend.arena;
  const size = tf.util.sizeFromShape(shape as number[]);
  const out = arena !== undefined && inputs.every((v) => arena.contains(v)) ? arena.take(size) : undefined;
  if (out === undefined) return composed();
  backend.runRows(elementwiseJob(kernel, [inputs[0].byteOffset, inputs[1].byteOffset, out.byteOffset], size));
  return backend.makeTensorInfo([...shape], 'float32', out);
}

function addRelu({ inputs, backend }: OnnxKernelArgs): tf.TensorInfo {
  const { a, b } = inputs;
  checkSameShape(ADD_RELU, a, b);
  return inArenaOr(backend, a.shape, [backend.float32(a), backend.float32(b)],
    'addRelu',
    () => thenFree(backend, elementwise(tf.Add)({ inputs: { a, b }, backend, attrs: {} }) as tf.TensorInfo,
      (sum) => elementwise(tf.Relu)({ inputs: { x: sum }, backend, attrs: {} }) as tf.TensorInfo));
}

function reluGrad({ inputs, backend }: OnnxKernelArgs): tf.TensorInfo {
  const { y, dy } = inputs;
  checkSameShape(RELU_GRAD, y, dy);
  return inArenaOr(backend, y.shape, [backend.float32(y), backend.float32(dy)],
    'reluGrad',
    () => thenFree(backend, elementwise(tf.Step)({ inputs: { x: y }, backend, attrs: { alpha: 0 } }) as tf.TensorInfo,
      (mask) => elementwise(tf.Multiply)({ inputs: { a: dy, b: mask }, backend, attrs: {} }) as tf.TensorInfo));
}

const asKernel = (f: (args: OnnxKernelArgs) => tf.TensorInfo): tf.KernelFunc => (params) => f(params as unknown as OnnxKernelArgs);

export const addReluKernels: OnnxKernel[] = [
  { kernelName: ADD_RELU, kernelFunc: asKernel(addRelu) },
  { kernelName: RELU_GRAD, kernelFunc: asKernel(reluGrad) },
];
