/** Shared plumbing of this backend's kernels: argument types and the cpu fallback. */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';

/**
 * Tensors with fewer elements stay on the cpu kernels (calling into ORT costs tens of
 * microseconds; on small tensors the cpu kernels' overheads do not matter), and only larger
 * buffers are pooled and moved into the SIMD arena.
 */
export const MIN_LARGE_ELEMENTS = 4096;

/** What tfjs passes to a kernel of this backend. */
export interface OnnxKernelArgs<A = tf.NamedAttrMap> {
  /** by the kernel's input names; optional inputs may be missing */
  inputs: Readonly<Record<string, tf.TensorInfo>>;
  backend: OnnxBackend;
  attrs: A;
}

/** A kernel implemented here: it decides per call whether it runs or the cpu kernel does. */
export interface OnnxKernel {
  kernelName: string;
  kernelFunc: tf.KernelFunc;
}

/** The cpu backend's implementation of `kernelName`, called with the same arguments. */
export function cpuKernel(kernelName: string): tf.KernelFunc {
  const config = tf.getKernel(kernelName, 'cpu');
  if (config === undefined) throw new Error(`the cpu backend has no kernel ${kernelName}`);
  return config.kernelFunc;
}

/**
 * Makes a kernel that runs `fast` and, when it returns undefined (an input it does not handle:
 * another dtype or layout, a tensor too small to gain), the cpu kernel.
 */
export function withFallback<A>(
  kernelName: string,
  fast: (args: OnnxKernelArgs<A>) => tf.TensorInfo | tf.TensorInfo[] | undefined,
): OnnxKernel {
  const cpu = cpuKernel(kernelName);
  return {
    kernelName,
    kernelFunc: (params) => {
      const result = fast(params as unknown as OnnxKernelArgs<A>);
      return result === undefined ? cpu(params) : result;
    },
  };
}

/** Every input is float32. */
export function allFloat32(...tensors: Array<tf.TensorInfo | undefined>): boolean {
  return tensors.every((t) => t === undefined || t.dtype === 'float32');
}
