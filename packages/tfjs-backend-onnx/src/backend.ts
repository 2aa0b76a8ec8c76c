/**
 * The 'onnx' tfjs backend: the cpu backend (tensors are JS typed arrays, every kernel falls back
 * to the cpu one) whose heavy kernels run as small cached ONNX Runtime graphs or SIMD loops.
 * Large float32 tensors live in recycled buffers, in the SIMD arena when it has room.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BufferPool } from './buffer-pool';
import type { BackgroundRunner } from './parallel/background';
import type { ChunkedSumRunner } from './parallel/helper-threads';
import { runJobHere, type RowJob, type RowSplitter } from './parallel/row-threads';
import { MIN_LARGE_ELEMENTS } from './kernels/kernel-utils';
import type { GraphSpec } from './proto';
import type { WasmArena } from './simd/arena';
import type { Feed, OrtRuntime } from './runtime';

type DataId = object;

/**
 * 'convolution': one NCHWc convolution over the batch (kernels/filter-grad-by-conv.ts);
 * 'tap-products': per-tap matrix products over chunks of images (kernels/conv-filter-grad.ts).
 */
export type FilterGradientRoute = 'convolution' | 'tap-products';

/**
 * The input gradient of a strided convolution (kernels/conv.ts). 'phase-by-phase': one stride-1
 * convolution per output phase, with only the taps that reach it; 'polyphase': one convolution
 * computing every phase with the taps of the largest. The same values, bit for bit; the first does
 * fewer multiplications and is the default, the second remains for comparison and the sizes the
 * first does not handle.
 */
export type StridedInputGradientRoute = 'phase-by-phase' | 'polyphase';

export class OnnxBackend extends MathBackendCPU {
  /** output buffers of this backend's kernels, reused across steps */
  readonly pool: BufferPool;
  /**
   * 'phase-by-phase' with dy in NCHWc blocks: every phase's convolution in one graph that reorders
   * dy once (true), or each phase its own graph (false). The same values; bench/paired-steps.ts
   * switches it step by step.
   */
  phasesInOneGraph = true;

  constructor(
    readonly ort: OrtRuntime,
    /** NCHWc block size of this CPU (0 when the NCHWc kernels are unavailable) */
    readonly nchwcBlock: number,
    pool: BufferPool,
    /** chunked sums (the filter gradient's 'tap-products' route), shared out with helper threads */
    readonly chunks: ChunkedSumRunner,
    /** how Conv2DBackpropFilter runs where it can (kernels/conv-filter-grad.ts; default set in register.ts) */
    readonly filterGradient: FilterGradientRoute,
    /**
     * how Conv2DBackpropInput of a strided convolution runs where it can (default set in
     * register.ts; bench/paired-steps.ts switches it step by step)
     */
    public stridedInputGradient: StridedInputGradientRoute,
    /** a thread that computes filter gradients while this one goes on (undefined: none) */
    readonly background?: BackgroundRunner,
    /** a thread that shares batch norm's row passes with this one, in the shared arena (undefined: none) */
    readonly rows?: RowSplitter,
  ) {
    super();
    this.pool = pool;
    if (background !== undefined) {
      // Every read of a tensor's values (kernels, dataSync, dispose) goes through data.get: values
      // still being computed in the background are waited for there, so no one sees them early.
      const storage = this.data;
      const get = storage.get.bind(storage);
      storage.get = (dataId: DataId) => {
        const entry = get(dataId);
        if (background.busy && entry !== undefined) background.settle(entry.values);
        return entry;
      };
    }
    // The cpu backend prints a "use tfjs-node" hint on first use; this backend is the answer to it.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const held = this.pool.intern(values, MIN_LARGE_ELEMENTS) as tf.backend_util.BackendValues;
    this.pool.retain(held);
    return super.write(held, shape, dtype);
  }

  override move(dataId: DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    const held = this.pool.intern(values, MIN_LARGE_ELEMENTS) as tf.backend_util.BackendValues;
    this.pool.retain(held);
    super.move(dataId, held, shape, dtype, refCount);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return released;
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    // dataSync() hands out this very array, which the caller may keep: a pooled one gets reused.
    return this.pool.pooled(values) ? (values as Float32Array).slice() : values;
  }

  /** The SIMD kernels and their memory, when WebAssembly SIMD is available. */
  get arena(): WasmArena | undefined {
    return this.pool.arena;
  }

  /**
   * Runs a row pass of SIMD kernels on tensors in the arena: shared with the row thread where
   * there is one, else on this thread alone; the same values either way.
   */
  runRows(job: RowJob): void {
    const arena = this.arena;
    if (arena === undefined) throw new Error('onnx backend: a row pass needs the SIMD arena');
    if (this.rows !== undefined) this.rows.run(job);
    else runJobHere(arena.compiled, job);
  }

  /** A float32 output buffer of `shape`, recycled when possible. */
  output(shape: readonly number[]): Float32Array {
    return this.pool.take(tf.util.sizeFromShape(shape as number[]));
  }

  /** The float32 values of a tensor held by this backend. */
  float32(t: tf.TensorInfo): Float32Array {
    return this.data.get(t.dataId).values as Float32Array;
  }

  /**
   * Runs a cached graph on float32 tensors and wraps its outputs as tensors of the given shapes
   * (the graph's own output shapes may differ, e.g. a flattened result). `wide`: see OrtRuntime.run.
   * Large outputs are written by ORT straight into pool buffers (the SIMD arena when it has room).
   */
  runGraph(
    key: string,
    build: () => GraphSpec,
    feeds: readonly Feed[],
    outputs: ReadonlyArray<{ name: string; shape: number[] }>,
    wide = false,
  ): tf.TensorInfo[] {
    const into = outputs.map((o) => {
      const size = tf.util.sizeFromShape(o.shape);
      return size >= MIN_LARGE_ELEMENTS ? this.pool.take(size) : undefined;
    });
    let results: Float32Array[];
    try {
      results = this.ort.run(key, build, feeds, outputs.map((o) => o.name), wide, into) as Float32Array[];
    } catch (error) {
      for (const buffer of into) if (buffer !== undefined) this.pool.recycle(buffer);
      throw error;
    }
    // ORT leaves a buffer unused when the graph's output shape is not fixed: it goes back to the pool.
    into.forEach((buffer, i) => {
      if (buffer !== undefined && results[i] !== buffer) this.pool.recycle(buffer);
    });
    // write() keeps pool buffers as they are and copies other large outputs into the SIMD arena.
    return outputs.map((o, i) => this.makeTensorInfo(o.shape, 'float32', results[i]));
  }

  /** Feed for a tensor of this backend. */
  feed(name: string, t: tf.TensorInfo): Feed {
    return { name, data: this.float32(t), dims: t.shape };
  }

  override dispose(): void {
    this.background?.dispose();
    this.rows?.dispose();
    this.chunks.dispose();
    this.ort.dispose();
    this.pool.clear();
    super.dispose();
  }
}
