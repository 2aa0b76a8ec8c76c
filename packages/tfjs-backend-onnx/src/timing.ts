/**
 * Wall time per kernel of the 'onnx' backend (ORT kernels and cpu fallbacks alike), for the
 * benchmark's breakdown. Kernels are synchronous, so timing around the call is exact; the cost is
 * two `performance.now()` calls per kernel.
 */
import type * as tf from '@tensorflow/tfjs';

/** Calls and total milliseconds of one kernel since the last reset. */
export interface KernelTiming {
  kernelName: string;
  calls: number;
  milliseconds: number;
}

const totals = new Map<string, KernelTiming>();

/** Per-kernel times since the last reset, slowest first. */
export function kernelTimings(): KernelTiming[] {
  return [...totals.values()].map((t) => ({ ...t })).sort((a, b) => b.milliseconds - a.milliseconds);
}

/** Clears the per-kernel times. */
export function resetKernelTimings(): void {
  totals.clear();
}

/** Wraps a kernel function so that its calls are counted and timed. */
export function timed(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return (params) => {
    const start = performance.now();
    try {
      return kernelFunc(params);
    } finally {
      let entry = totals.get(kernelName);
      if (entry === undefined) {
        entry = { kernelName, calls: 0, milliseconds: 0 };
        totals.set(kernelName, entry);
      }
      entry.calls += 1;
      entry.milliseconds += performance.now() - start;
    }
  };
}
