/**
 * Synchronous access to ONNX Runtime. tfjs kernels must return synchronously, but the public
 * `InferenceSession.run` of onnxruntime-node is async; underneath, its native binding runs
 * synchronously, so this module talks to the binding directly, shaping feeds, fetches and options
 * the way onnxruntime-node's own backend.js does.
 */
import * as os from 'os';
import { encodeModel, type GraphSpec } from './proto';

/** Typed arrays that cross the boundary (float32 for data, int32/int64 rarely). */
export type OrtData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** A tensor handed to or returned by the native binding. */
interface NativeTensor {
  readonly type: string;
  readonly data: OrtData;
  readonly dims: readonly number[];
}

type TensorConstructor = new (type: string, data: OrtData, dims: readonly number[]) => NativeTensor;

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, NativeTensor>, fetches: Record<string, NativeTensor | null>, options: object): Record<string, NativeTensor>;
  dispose(): void;
}

interface NativeBinding {
  InferenceSession: new () => NativeSession;
}

/** Threading of every session. */
export interface OrtThreading {
  /** intra-op threads per session (see defaultThreadCount) */
  threads: number;
  /** intra-op threads of sessions run with `wide` (convolutions, which MLAS splits well across cores) */
  wideThreads: number;
  /** let idle pool threads spin waiting for work (faster on an idle machine, wasteful on a busy one) */
  spinning: boolean;
}

/** One input of a run: a name in the graph, data and shape. */
export interface Feed {
  name: string;
  data: OrtData;
  dims: readonly number[];
}

/** A compiled graph and its output shapes (undefined where a dimension is symbolic). */
interface CachedSession {
  native: NativeSession;
  outputDims: Map<string, number[] | undefined>;
}

/** ONNX Runtime loaded and ready: a cache of one session per graph key. */
export class OrtRuntime {
  private readonly sessions = new Map<string, CachedSession>();

  constructor(
    private readonly binding: NativeBinding,
    private readonly Tensor: TensorConstructor,
    readonly threading: OrtThreading,
  ) {}

  /** Number of distinct graphs compiled so far. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Runs the graph cached under `key` (built by `build` on first use) and returns its outputs in
   * the order of `outputs`. Every graph input must be fed. A `wide` graph gets `wideThreads`
   * threads when its session is created.
   *
   * `into[i]`, when given, is a float32 array of exactly output i's size for ORT to write output
   * i into; it is returned in place of the binding's result. (The binding still hands back a copy
   * of every output, which is dropped, but the caller's own copy into its memory is saved.)
   */
  run(key: string, build: () => GraphSpec, feeds: readonly Feed[], outputs: readonly string[], wide = false, into?: ReadonlyArray<Float32Array | undefined>): OrtData[] {
    const session = this.sessions.get(key) ?? this.addSession(key, build(), wide);
    const nativeFeeds: Record<string, NativeTensor> = {};
    for (const feed of feeds) nativeFeeds[feed.name] = new this.Tensor(tensorType(feed.data), feed.data, feed.dims);
    const fetches: Record<string, NativeTensor | null> = {};
    outputs.forEach((name, i) => {
      const target = into?.[i];
      const dims = session.outputDims.get(name);
      if (target !== undefined && dims !== undefined) {
        const size = dims.reduce((a, b) => a * b, 1);
        if (target.length !== size) throw new RangeError(`output ${name} of ${key} has ${size} elements; the array given for it has ${target.length}`);
        fetches[name] = new this.Tensor('float32', target, dims);
      } else {
        fetches[name] = null;
      }
    });
    const results = session.native.run(nativeFeeds, fetches, {});
    return outputs.map((name, i) => (fetches[name] !== null ? (into?.[i] as Float32Array) : results[name].data));
  }

  private addSession(key: string, spec: GraphSpec, wide: boolean): CachedSession {
    const outputDims = new Map(spec.outputs.map((o) => [o.name, o.shape.every((d) => typeof d === 'number') ? (o.shape as number[]) : undefined]));
    const session = { native: this.createSession(spec, wide ? this.threading.wideThreads : this.threading.threads), outputDims };
    this.sessions.set(key, session);
    return session;
  }

  /** Releases every cached session. */
  dispose(): void {
    for (const session of this.sessions.values()) session.native.dispose();
    this.sessions.clear();
  }

  private createSession(graph: GraphSpec, threads: number): NativeSession {
    const model = encodeModel(graph);
    const session = new this.binding.InferenceSession();
    session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: this.threading.spinning ? '1' : '0' } } },
    });
    return session;
  }
}

function tensorType(data: OrtData): string {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'bool';
}

/**
 * Threads per ORT kernel. Most kernels get one core fewer than the machine has (at least one): a
 * kernel's parallel parts wait for their slowest thread, and a thread that shares its core with
 * the JavaScript thread or another process can wait milliseconds to be scheduled; on a busy
 * 2-core machine two threads made the filter-gradient GEMMs (a 16 x 16 output per tap, nothing
 * to split) 1.5-3x slower and less predictable than one. `wide` kernels (convolutions, split by
 * MLAS over output channels and rows) get every core: on 2 cores the quick encoder's 16x16 and
 * 8x8 convolutions ran about 1.4x faster with two, and the SimCLR step about 8% faster.
 * CIFAR_SSL_ORT_THREADS sets both.
 */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env, wide = false): number {
  const fromEnv = env[ORT_THREADS_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    const threads = Number(fromEnv);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`${ORT_THREADS_ENV_VAR}=${fromEnv} is not a thread count: give a whole number of at least 1, or unset it for the defaults`);
    }
    return threads;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return wide ? cores : Math.max(1, cores - 1);
}

/** Environment variable that overrides the ORT threads per kernel (for measuring, or a quiet many-core machine). */
export const ORT_THREADS_ENV_VAR = 'CIFAR_SSL_ORT_THREADS';

/**
 * Loads onnxruntime-node's native binding. Throws an Error that says why when the package is
 * missing or its native library does not load on this platform.
 */
export function loadOrtRuntime(threading: OrtThreading): OrtRuntime {
  let bindingModule: { binding: NativeBinding; initOrt: () => void };
  let common: { Tensor: TensorConstructor };
  try {
    // Required lazily: onnxruntime-node is an optional dependency.
    bindingModule = require('onnxruntime-node/dist/binding');
    common = require('onnxruntime-common');
    bindingModule.initOrt();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`onnxruntime-node is not usable here (${reason}); install it with \`npm install onnxruntime-node\` or use another backend`);
  }
  return new OrtRuntime(bindingModule.binding, common.Tensor, threading);
}
