/**
 * Registers the 'onnx' backend: every cpu kernel, with the heavy ones replaced: convolutions,
 * matrix products, reductions and pooling by ONNX Runtime graphs, element-wise passes by
 * WebAssembly SIMD loops, the augmentation's crop and the slice gradient's pad by direct loops.
 * Usage: `registerOnnxBackend(); await tf.setBackend('onnx');`.
 */
import * as tf from '@tensorflow/tfjs';
import { type FilterGradientRoute, OnnxBackend, type StridedInputGradientRoute } from './backend';
import { BufferPool } from './buffer-pool';
import { fusedBatchNorm } from './kernels/batchnorm';
import { batchNormTrainKernels } from './kernels/batchnorm-train';
import { convKernels } from './kernels/conv';
import { cropAndResize } from './kernels/crop-and-resize';
import { conv2DBackpropFilter } from './kernels/conv-filter-grad';
import { elementwiseKernels } from './kernels/elementwise';
import type { OnnxKernel } from './kernels/kernel-utils';
import { matMulKernels } from './kernels/matmul';
import { padV2 } from './kernels/pad';
import { tile } from './kernels/tile';
import { poolKernels } from './kernels/pool';
import { reduceKernels } from './kernels/reduce';
import { sgdUpdateKernel } from './kernels/sgd-update';
import { addReluKernels } from './kernels/add-relu';
import { detectBlockSize } from './layout';
import { BackgroundRunner } from './parallel/background';
import { RowSplitter } from './parallel/row-threads';
import { ChunkedSumRunner } from './parallel/helper-threads';
import { defaultThreadCount, loadOrtRuntime } from './runtime';
import { WasmArena } from './simd/arena';
import { timed } from './timing';

export const ONNX_BACKEND_NAME = 'onnx';

/** Below tensorflow (tfjs-node, 3), above wasm and webgl (2) and cpu (1). */
const PRIORITY = 2.5;

function onnxKernels(): OnnxKernel[] {
  return [...convKernels, conv2DBackpropFilter, ...matMulKernels, fusedBatchNorm, ...poolKernels, ...reduceKernels, ...elementwiseKernels, cropAndResize, padV2, tile];
}

/** Kernels of this project's own ops, which the cpu backend does not have. */
function projectKernels(): OnnxKernel[] {
  return [...batchNormTrainKernels, ...addReluKernels, sgdUpdateKernel];
}

/** The SIMD arena, or undefined (element-wise kernels then run as plain JavaScript loops). */
/** The SIMD arena, shared when asked and possible, else a plain one, else none. */
function makeArena(megabytes: number, shared: boolean): WasmArena | undefined {
  if (megabytes <= 0) return undefined;
  for (const asShared of shared ? [true, false] : [false]) {
    try {
      return new WasmArena(megabytes * 2 ** 20, asShared);
    } catch {
      // no WebAssembly SIMD or threads, or no address space for the memory
    }
  }
  return undefined;
}

/** More helpers than this would mostly split chunks finer (a layer has 13-40 chunks). */
const MAX_HELPER_THREADS = 7;

/** Names of the kernels this backend implements (on ORT or in SIMD); the others are the cpu backend's. */
export function onnxKernelNames(): string[] {
  return [...onnxKernels(), ...projectKernels()].map((k) => k.kernelName);
}

/** Environment variable that turns the background thread of the filter gradient on (1) or off (0). */
export const BACKGROUND_ENV_VAR = 'TFJS_ONNX_BACKGROUND';

/**
 * Whether filter gradients go to a background thread: TFJS_ONNX_BACKGROUND when set (0 or 1),
 * else when convolutions get at least two threads.
 */
export function defaultBackgroundThread(env: NodeJS.ProcessEnv, wideThreads: number): boolean {
  return onOffSetting(env, BACKGROUND_ENV_VAR, wideThreads >= 2, 'filter gradients on the main thread only', 'a background thread too');
}

/** A 0/1 environment variable: `fallback` when unset or empty, a clear error for any other value. */
function onOffSetting(env: NodeJS.ProcessEnv, name: string, fallback: boolean, off: string, on: string): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === '0' || value === '1') return value === '1';
  throw new Error(`${name}=${value}: give 0 (${off}) or 1 (${on})`);
}

export const ROW_THREAD_ENV_VAR = 'TFJS_ONNX_ROW_THREAD';

/**
 * Whether batch norm's row passes are shared with a row thread (which makes the SIMD arena a
 * shared memory): TFJS_ONNX_ROW_THREAD when set (0 or 1), else when convolutions get at least two
 * threads.
 */
export function defaultRowThread(env: NodeJS.ProcessEnv, wideThreads: number): boolean {
  return onOffSetting(env, ROW_THREAD_ENV_VAR, wideThreads >= 2, 'batch norm and element-wise passes on the main thread only', 'shared with a row thread');
}

/** Settings of the backend, fixed at registration. */
export interface OnnxBackendOptions {
  /** ORT threads per kernel (default: logical cores - 1, see defaultThreadCount) */
  threads: number;
  /** ORT threads per convolution (default: logical cores, or `threads` when only that is given) */
  wideThreads: number;
  /** helper threads that share out chunked sums (the filter gradient) with the main thread (default: wideThreads - 1, at most 7) */
  helperThreads: number;
  /** idle ORT threads spin waiting for work: a little faster on an idle machine, far slower on a busy one */
  spinning: boolean;
  /** WebAssembly memory for tensors the SIMD kernels work on, MiB (reserved, committed as used; 0 = none) */
  arenaMegabytes: number;
  /** freed kernel outputs outside that memory kept for reuse, MiB */
  poolMegabytes: number;
  /** how the filter gradient runs (default 'convolution'; 'tap-products' where NCHWc is unavailable) */
  filterGradient: FilterGradientRoute;
  /** how a strided convolution's input gradient runs (default 'phase-by-phase') */
  stridedInputGradient: StridedInputGradientRoute;
  /** tests: kernels get output buffers full of NaN, so unwritten elements show (default false) */
  poisonBuffers: boolean;
  /**
   * compute filter gradients on a background thread while the main thread goes on with the
   * backward pass, in place in a SIMD arena of shared memory (parallel/background.ts; default: see
   * defaultBackgroundThread); only where ORT is reached through its C API
   */
  backgroundThread: boolean;
  /**
   * share batch norm's row passes and the large element-wise passes with a row thread, in a SIMD
   * arena of shared memory (parallel/row-threads.ts; default: see defaultRowThread); only where
   * ORT is reached through its C API
   */
  rowThread: boolean;
}

/**
 * Registers backend 'onnx' (idempotent: later calls change nothing). Throws an Error naming the
 * reason when onnxruntime-node is missing or does not load, so a caller can fall back to another
 * backend.
 */
export function registerOnnxBackend(options: Partial<OnnxBackendOptions> = {}): void {
  registerOnnxBackendAs(ONNX_BACKEND_NAME, options, PRIORITY);
}

/**
 * The same backend under another name and settings, e.g. without the SIMD arena, for tests and
 * benchmarks that compare variants in one process. Priority 0: never chosen automatically.
 */
export function registerOnnxBackendAs(name: string, options: Partial<OnnxBackendOptions> = {}, priority = 0): void {
  if (tf.findBackendFactory(name) !== null) return;
  const wideThreads = options.wideThreads ?? options.threads ?? defaultThreadCount(process.env, true);
  const settings: OnnxBackendOptions = {
    threads: defaultThreadCount(),
    wideThreads,
    helperThreads: Math.min(MAX_HELPER_THREADS, wideThreads - 1),
    spinning: false,
    arenaMegabytes: 3072,
    poolMegabytes: 1024,
    filterGradient: 'convolution',
    stridedInputGradient: 'phase-by-phase',
    poisonBuffers: false,
    backgroundThread: defaultBackgroundThread(process.env, wideThreads),
    rowThread: defaultRowThread(process.env, wideThreads),
    ...options,
  };
  // Load now rather than in the factory, so a missing package is reported to the caller here.
  loadOrtRuntime(settings).dispose();

  tf.registerBackend(
    name,
    () => {
      const runtime = loadOrtRuntime(settings);
      let block = 0;
      try {
        block = detectBlockSize(runtime);
      } catch {
        // No NCHWc kernels in this build or on this CPU: convolutions take the plain ONNX route.
      }
      // The row and background threads work on the main thread's tensors in place, in an arena of
      // shared memory; through the binding, every shared array would be copied in and out of ORT,
      // so they come with the C API route only.
      const arena = makeArena(settings.arenaMegabytes, (settings.rowThread || settings.backgroundThread) && runtime.calls === 'c-api');
      const pool = new BufferPool(arena, settings.poolMegabytes * 2 ** 20, settings.poisonBuffers);
      // The main thread's share of a chunked sum runs single-threaded, like each helper's.
      const chunks = new ChunkedSumRunner(loadOrtRuntime({ ...settings, threads: 1, wideThreads: 1 }), settings.helperThreads);
      const shared = arena?.shared === true ? arena : undefined;
      const background = shared !== undefined && settings.backgroundThread && block >= 4 && settings.filterGradient === 'convolution'
        ? new BackgroundRunner(shared) : undefined;
      const rows = shared !== undefined && settings.rowThread ? new RowSplitter(shared) : undefined;
      return new OnnxBackend(runtime, block >= 4 ? block : 0, pool, chunks, settings.filterGradient, settings.stridedInputGradient, background, rows);
    },
    priority,
  );

  const replaced = new Map(onnxKernels().map((k) => [k.kernelName, k.kernelFunc]));
  for (const config of tf.getKernelsForBackend('cpu')) {
    const kernelFunc = replaced.get(config.kernelName) ?? config.kernelFunc;
    tf.registerKernel({ ...config, backendName: name, kernelFunc: timed(config.kernelName, kernelFunc) });
  }
  for (const kernel of projectKernels()) {
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: name, kernelFunc: timed(kernel.kernelName, kernel.kernelFunc) });
  }
}
