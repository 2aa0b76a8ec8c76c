/** Shared plumbing of the ORT kernels: argument types and the cpu fallback. */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';

/**
 * Tensors with fewer elements stay on the cpu kernels: calling into ORT costs tens of
 * microseconds, and on small tensors the cpu kernels' overheads do not matter.
 */
export const MIN_LARGE_ELEMENTS = 4096;

/** What tfjs passes to a kernel of this backend. */
export interface OnnxKernelArgs<A = tf.NamedAttrMap> {
  /** by the kernel's input names; optional inputs may be missing */
  inputs: Readonly<Record<string, tf.TensorInfo>>;
  backend: OnnxBackend;
  attrs: A;
}

/** A kernel implemented here: it decides per call whether ORT runs it or the cpu kernel does. */
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
 * Makes a kernel that runs `ort` when it returns a result and the cpu kernel when it returns
 * undefined (an input it does not handle: another dtype, layout or a tensor too small to pay for
 * the call into ORT).
 */
export function withFallback<A>(
  kernelName: string,
  ort: (args: OnnxKernelArgs<A>) => tf.TensorInfo | tf.TensorInfo[] | undefined,
): OnnxKernel {
  const cpu = cpuKernel(kernelName);
  return {
    kernelName,
    kernelFunc: (params) => {
      const result = ort(params as unknown as OnnxKernelArgs<A>);
      return result === undefined ? cpu(params) : result;
    },
  };
}

/** Same shape, element by element. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Every input is float32. */
export function allFloat32(...tensors: Array<tf.TensorInfo | undefined>): boolean {
  return tensors.every((t) => t === undefined || t.dtype === 'float32');
}
