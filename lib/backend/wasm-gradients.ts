/**
 * Makes the wasm backend able to train. In tfjs 4.22 it has no Conv2DBackpropFilter kernel, a slow
 * Conv2DBackpropInput, a MaxPoolGrad that is wrong where a window's maximum is negative, and
 * neither UnsortedSegmentSum (gradient of gather) nor Einsum (rgbToGrayscale). Each is registered
 * here as a wasm kernel built from ops that wasm runs correctly and fast.
 *
 * Kernels rather than gradient overrides, because tf.conv2d's gradient, tf.fused.conv2d's gradient
 * and tf.conv2dTranspose all end in the two conv backprop kernels, and a kernel applies to wasm only.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dFilterGradient, conv2dInputGradient } from './conv-gradients';
import { einsum, unsortedSegmentSum } from './missing-kernels';
import { maxPoolInputGradient } from './pool-gradients';

const BACKEND = 'wasm';

/** The kernels this file installs, by name, with the wasm kernel each replaced (if any). */
const replaced = new Map<string, tf.KernelConfig | undefined>();

/** Registers the training kernels for wasm; calling it again does nothing. */
export function installWasmTrainingKernels(): void {
  if (replaced.size > 0) return;
  for (const config of trainingKernels()) {
    const original = tf.getKernel(config.kernelName, BACKEND);
    if (original !== undefined) tf.unregisterKernel(config.kernelName, BACKEND);
    tf.registerKernel(config);
    replaced.set(config.kernelName, original);
  }
}

/** Restores wasm's own kernels (used to compare against them). */
export function uninstallWasmTrainingKernels(): void {
  const backend = tf.engine().registry[BACKEND] as tf.KernelBackend | undefined; // only if initialised
  for (const [name, original] of replaced) {
    tf.unregisterKernel(name, BACKEND);
    if (original === undefined) continue;
    tf.registerKernel(original);
    // a backend initialised while the original was unregistered never ran its setup (wasm bindings)
    if (backend !== undefined && original.setupFunc !== undefined) original.setupFunc(backend);
  }
  replaced.clear();
}

/** Names of the kernels installWasmTrainingKernels registers. */
export function wasmTrainingKernelNames(): string[] {
  return trainingKernels().map((config) => config.kernelName);
}

function trainingKernels(): tf.KernelConfig[] {
  return [
    opKernel(tf.Conv2DBackpropInput, ({ dy, filter }, attrs) => {
      const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      requireNhwc(a.dataFormat);
      return conv2dInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, a.inputShape, a.strides, a.pad, a.dimRoundingMode);
    }),
    opKernel(tf.Conv2DBackpropFilter, ({ x, dy }, attrs) => {
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      requireNhwc(a.dataFormat);
      return conv2dFilterGradient(x as tf.Tensor4D, dy as tf.Tensor4D, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
    }),
    opKernel(tf.MaxPoolGrad, ({ dy, input, output }, attrs) => {
      const a = attrs as unknown as tf.MaxPoolGradAttrs;
      return maxPoolInputGradient(dy as tf.Tensor4D, input as tf.Tensor4D, output as tf.Tensor4D, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
    }),
    opKernel(tf.UnsortedSegmentSum, ({ x, segmentIds }, attrs) =>
      unsortedSegmentSum(x, segmentIds, (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments),
    ),
    opKernel(tf.Einsum, (inputs, attrs) =>
      // Einsum's inputs arrive as an array-like map '0', '1', ... in operand order
      einsum((attrs as unknown as tf.EinsumAttrs).equation, Object.values(inputs)),
    ),
  ];
}

/**
 * A wasm kernel computed with ops. The engine hands kernels its input Tensors and accepts a Tensor
 * back as the output; tf.tidy frees the intermediates, so the kernel allocates only its output.
 */
function opKernel(
  kernelName: string,
  compute: (inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) => tf.Tensor,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs }) => tf.tidy(() => compute(asTensors(inputs, kernelName), attrs ?? {})),
  };
}

function asTensors(inputs: tf.NamedTensorInfoMap, kernelName: string): Record<string, tf.Tensor> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, info] of Object.entries(inputs)) {
    if (!(info instanceof tf.Tensor)) {
      throw new Error(`${kernelName} on wasm: input '${name}' is not a Tensor; this kernel needs tfjs 4.22's engine`);
    }
    tensors[name] = info;
  }
  return tensors;
}

function requireNhwc(dataFormat: string): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`conv2d gradient on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
}
