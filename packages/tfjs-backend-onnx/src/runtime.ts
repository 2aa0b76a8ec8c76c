/**
 * Synchronous access to ONNX Runtime. tfjs kernels must return synchronously, but the public
 * `InferenceSession.run` of onnxruntime-node is async; underneath, its native binding runs
 * synchronously. Two ways in, the same graphs and session options either way:
 * - 'c-api': ORT's C API through koffi (c-api.ts), where ORT writes outputs straight into the
 *   caller's arrays; the default where koffi loads;
 * - 'binding': onnxruntime-node's native binding, shaped the way its own backend.js does, which
 *   copies every output into a fresh array (see c-api.ts for why that matters).
 */
import * as os from 'os';
import { OrtCApi, type CApiSession, type Feed, type OrtData, type OutputRequest } from './c-api';
import { encodeModel, type ElemTypeName, type GraphSpec } from './proto';

export type { Feed, OrtData } from './c-api';

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

/** How runs reach ORT (see the top of this file). */
export type OrtCalls = 'c-api' | 'binding';

/** A compiled graph behind either way in. */
interface CompiledGraph {
  run(feeds: readonly Feed[], outputs: readonly OutputRequest[]): OrtData[];
  dispose(): void;
}

/** A compiled graph and its outputs' types and shapes (undefined where a dimension is symbolic). */
interface CachedSession {
  graph: CompiledGraph;
  outputs: Map<string, { type: ElemTypeName; dims: number[] | undefined }>;
}

const isShared = (data: OrtData): boolean => data.buffer instanceof SharedArrayBuffer;

/** A session of onnxruntime-node's binding. */
class BindingGraph implements CompiledGraph {
  constructor(private readonly native: NativeSession, private readonly Tensor: TensorConstructor) {}

  run(feeds: readonly Feed[], outputs: readonly OutputRequest[]): OrtData[] {
    // The binding rejects views of a SharedArrayBuffer (the SIMD arena shared with the row
    // thread): those go in as copies and come back by copying.
    const nativeFeeds: Record<string, NativeTensor> = {};
    for (const feed of feeds) nativeFeeds[feed.name] = new this.Tensor(tensorType(feed.data), isShared(feed.data) ? feed.data.slice() : feed.data, feed.dims);
    const fetches: Record<string, NativeTensor | null> = {};
    for (const o of outputs) fetches[o.name] = o.into !== undefined && o.dims !== undefined && !isShared(o.into) ? new this.Tensor('float32', o.into, o.dims) : null;
    const results = this.native.run(nativeFeeds, fetches, {});
    return outputs.map((o) => {
      if (fetches[o.name] !== null) return o.into as Float32Array;
      const data = results[o.name].data;
      if (o.into === undefined || !isShared(o.into) || o.into.length !== data.length) return data;
      o.into.set(data as Float32Array);
      return o.into;
    });
  }

  dispose(): void {
    this.native.dispose();
  }
}

/** ONNX Runtime loaded and ready: a cache of one session per graph key (and way in). */
export class OrtRuntime {
  private readonly sessions = new Map<string, CachedSession>();
  private callsInUse: OrtCalls;

  constructor(
    private readonly binding: NativeBinding,
    private readonly Tensor: TensorConstructor,
    readonly threading: OrtThreading,
    private readonly cApi: OrtCApi | undefined,
    /** why the C API is not in use, when it is not */
    readonly cApiUnavailable?: string,
  ) {
    this.callsInUse = cApi !== undefined ? 'c-api' : 'binding';
  }

  /** How runs reach ORT; settable (bench/paired-steps.ts switches it step by step). */
  get calls(): OrtCalls {
    return this.callsInUse;
  }

  set calls(calls: OrtCalls) {
    if (calls === 'c-api' && this.cApi === undefined) throw new Error(`ONNX Runtime's C API is not available here: ${this.cApiUnavailable ?? 'not loaded'}`);
    this.callsInUse = calls;
  }

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
   * i into; it is returned in place of a new array. (Through the binding, ORT still hands back a
   * copy of every output, which is dropped; through the C API nothing is copied.)
   */
  run(key: string, build: () => GraphSpec, feeds: readonly Feed[], outputs: readonly string[], wide = false, into?: ReadonlyArray<Float32Array | undefined>): OrtData[] {
    const cacheKey = `${this.callsInUse}|${key}`;
    const session = this.sessions.get(cacheKey) ?? this.addSession(cacheKey, build(), wide);
    const requests = outputs.map((name, i): OutputRequest => {
      const output = session.outputs.get(name);
      if (output === undefined) throw new Error(`graph ${key} has no output ${name}`);
      const target = into?.[i];
      if (target !== undefined && output.dims !== undefined) {
        const size = output.dims.reduce((a, b) => a * b, 1);
        if (target.length !== size) throw new RangeError(`output ${name} of ${key} has ${size} elements; the array given for it has ${target.length}`);
      }
      return { name, type: output.type, dims: output.dims, into: target };
    });
    return session.graph.run(feeds, requests);
  }

  private addSession(cacheKey: string, spec: GraphSpec, wide: boolean): CachedSession {
    const outputs = new Map(spec.outputs.map((o) => [o.name, {
      type: o.type,
      dims: o.shape.every((d) => typeof d === 'number') ? (o.shape as number[]) : undefined,
    }]));
    const threads = wide ? this.threading.wideThreads : this.threading.threads;
    const model = encodeModel(spec);
    const graph: CompiledGraph = this.callsInUse === 'c-api' && this.cApi !== undefined
      ? this.cApi.createSession(model, threads, this.threading.spinning) satisfies CApiSession
      : new BindingGraph(this.createBindingSession(model, threads), this.Tensor);
    const session = { graph, outputs };
    this.sessions.set(cacheKey, session);
    return session;
  }

  /** Releases every cached session. */
  dispose(): void {
    for (const session of this.sessions.values()) session.graph.dispose();
    this.sessions.clear();
  }

  private createBindingSession(model: Uint8Array, threads: number): NativeSession {
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
 * TFJS_ONNX_THREADS sets both.
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
export const ORT_THREADS_ENV_VAR = 'TFJS_ONNX_THREADS';

/** Environment variable that chooses how runs reach ORT: c-api (the default where koffi loads) or binding. */
export const ORT_CALLS_ENV_VAR = 'TFJS_ONNX_ORT_CALLS';

/** The way in asked for by TFJS_ONNX_ORT_CALLS, or undefined for the default. */
export function requestedCalls(env: NodeJS.ProcessEnv = process.env): OrtCalls | undefined {
  const value = env[ORT_CALLS_ENV_VAR];
  if (value === undefined || value === '') return undefined;
  if (value === 'c-api' || value === 'binding') return value;
  throw new Error(`${ORT_CALLS_ENV_VAR}=${value}: give c-api (ORT's C API through koffi) or binding (onnxruntime-node's binding), or unset it for the default`);
}

/**
 * Loads onnxruntime-node's native binding and, unless `calls` is 'binding', ORT's C API through
 * koffi (where koffi is missing or fails to load, runs go through the binding; cApiUnavailable
 * says why). Throws an Error that says why when onnxruntime-node is missing or its native library
 * does not load on this platform, or when `calls` is 'c-api' and the C API does not load.
 */
export function loadOrtRuntime(threading: OrtThreading, calls: OrtCalls | undefined = requestedCalls()): OrtRuntime {
  let bindingModule: { binding: NativeBinding; initOrt: () => void };
  let common: { Tensor: TensorConstructor };
  try {
    // Required lazily: onnxruntime-node is an optional dependency.
    bindingModule = require('onnxruntime-node/dist/binding');
    common = require('onnxruntime-common');
    bindingModule.initOrt();
  } catch (error) {
    throw new Error(`onnxruntime-node is not usable here (${firstLine(error)}); install it with \`npm install onnxruntime-node\` or use another backend`);
  }
  let cApi: OrtCApi | undefined;
  let cApiUnavailable: string | undefined = 'this runtime was loaded for the binding only';
  if (calls !== 'binding') {
    try {
      cApi = OrtCApi.load();
      cApiUnavailable = undefined;
    } catch (error) {
      cApiUnavailable = firstLine(error);
      if (calls === 'c-api') throw new Error(`ONNX Runtime's C API did not load (${cApiUnavailable}); install koffi (\`npm install koffi\`) or set ${ORT_CALLS_ENV_VAR}=binding`);
    }
  }
  return new OrtRuntime(bindingModule.binding, common.Tensor, threading, cApi, cApiUnavailable);
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
