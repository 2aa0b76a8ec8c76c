/**
 * Registers the 'onnx' backend: every cpu kernel, with the heavy ones replaced by ONNX Runtime
 * graphs. Usage: `registerOnnxBackend(); await tf.setBackend('onnx');`.
 */
import * as tf from '@tensorflow/tfjs';
import { OnnxBackend } from './backend';
import { fusedBatchNorm } from './kernels/batchnorm';
import { convKernels } from './kernels/conv';
import { elementwiseKernels } from './kernels/elementwise';
import type { OnnxKernel } from './kernels/kernel-utils';
import { matMulKernels } from './kernels/matmul';
import { poolKernels } from './kernels/pool';
import { reduceKernels } from './kernels/reduce';
import { detectBlockSize } from './layout';
import { defaultThreadCount, loadOrtRuntime } from './runtime';
import { timed } from './timing';

export const ONNX_BACKEND_NAME = 'onnx';

/** Below tensorflow (tfjs-node, 3), above wasm and webgl (2) and cpu (1). */
const PRIORITY = 2.5;

function onnxKernels(): OnnxKernel[] {
  return [...convKernels, ...matMulKernels, fusedBatchNorm, ...poolKernels, ...reduceKernels, ...elementwiseKernels];
}

/** Names of the kernels that run on ONNX Runtime (the others are the cpu backend's). */
export function onnxKernelNames(): string[] {
  return onnxKernels().map((k) => k.kernelName);
}

/** Settings of the backend, fixed at registration. */
export interface OnnxBackendOptions {
  /** ORT threads per kernel (default: the machine's logical cores) */
  threads: number;
  /** idle ORT threads spin waiting for work: a little faster on an idle machine, far slower on a busy one */
  spinning: boolean;
  /** freed kernel outputs kept for reuse, MiB */
  poolMegabytes: number;
}

/**
 * Registers backend 'onnx' (idempotent: later calls change nothing). Throws an Error naming the
 * reason when onnxruntime-node is missing or does not load, so a caller can fall back to another
 * backend.
 */
export function registerOnnxBackend(options: Partial<OnnxBackendOptions> = {}): void {
  if (tf.findBackendFactory(ONNX_BACKEND_NAME) !== null) return;
  const settings: OnnxBackendOptions = { threads: defaultThreadCount(), spinning: false, poolMegabytes: 1024, ...options };
  // Load now rather than in the factory, so a missing package is reported to the caller here.
  loadOrtRuntime(settings).dispose();

  tf.registerBackend(
    ONNX_BACKEND_NAME,
    () => {
      const runtime = loadOrtRuntime(settings);
      let block = 0;
      try {
        block = detectBlockSize(runtime);
      } catch {
        // No NCHWc kernels in this build or on this CPU: convolutions take the plain ONNX route.
      }
      return new OnnxBackend(runtime, block >= 4 ? block : 0, settings.poolMegabytes * 2 ** 20);
    },
    PRIORITY,
  );

  const replaced = new Map(onnxKernels().map((k) => [k.kernelName, k.kernelFunc]));
  for (const config of tf.getKernelsForBackend('cpu')) {
    const kernelFunc = replaced.get(config.kernelName) ?? config.kernelFunc;
    tf.registerKernel({ ...config, backendName: ONNX_BACKEND_NAME, kernelFunc: timed(config.kernelName, kernelFunc) });
  }
}
