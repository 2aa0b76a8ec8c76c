/**
 * ONNX Runtime's C API called directly, through koffi (a foreign-function interface whose npm
 * package carries prebuilt binaries: nothing to compile or download), on the libonnxruntime that
 * onnxruntime-node ships.
 *
 * Why: onnxruntime-node's binding copies every output of a run into a fresh, zero-filled
 * ArrayBuffer, even one ORT has already written into an array the caller handed it (checked on
 * 1.23.2 and 1.30.0; an upstream pull request, microsoft/onnxruntime#32346, is open). A training
 * step of the quick preset allocates, zero-fills and copies about 80 MiB that way, on the main
 * thread (`npm run bench:allocations`). Here every output is an ORT tensor over the caller's own
 * array (the backend's pool buffers, in the SIMD arena), so ORT writes the result where it is
 * used and nothing is copied back. Graphs, options and kernels are the same as through the
 * binding, and so are the results, bit for bit (test/c-api.test.ts).
 *
 * Only the functions used here are declared, by their index in the OrtApi table, which ONNX
 * Runtime only ever appends to: API version 16 (ORT 1.16) has all of them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ElemType, type ElemTypeName } from './proto';

/** Typed arrays that cross the boundary (float32 for data, int32/int64 rarely, bool as bytes). */
export type OrtData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** One input of a run: a name in the graph, data and shape. */
export interface Feed {
  name: string;
  data: OrtData;
  dims: readonly number[];
}

/** One output of a run: its element type and, when the graph fixes them, dims; `into` receives it. */
export interface OutputRequest {
  name: string;
  type: ElemTypeName;
  dims: readonly number[] | undefined;
  /** a float32 array of the output's size for ORT to write into */
  into?: Float32Array;
}

/** A native pointer as koffi hands it out; null is NULL. */
type Pointer = object | null;
type NativeFunction = (...args: unknown[]) => unknown;

/** The parts of koffi used here (its own typings stay out of lib/: koffi is optional). */
interface Koffi {
  load(path: string): { func(definition: string): NativeFunction };
  struct(name: string, members: Record<string, string>): unknown;
  proto(definition: string): unknown;
  array(type: string, length: number): unknown;
  decode(value: unknown, type: unknown): unknown;
  view(pointer: unknown, length: number): ArrayBuffer;
}

const API_VERSION = 16;
const ORT_LOGGING_LEVEL_ERROR = 3;
/** A failing run is reported by the Error thrown; ORT need not also print it (as through the binding). */
const ORT_LOGGING_LEVEL_FATAL = 4;
const ORT_ENABLE_ALL = 99;
const ORT_SEQUENTIAL = 0;
const ORT_DEVICE_ALLOCATOR = 0;
const ORT_MEM_TYPE_DEFAULT = 0;

/** OrtApi functions: index in the table and C signature (OrtStatus* is returned as void*). */
const FUNCTIONS = {
  GetErrorMessage: [2, 'const char *GetErrorMessage(void *status)'],
  CreateEnv: [3, 'void *CreateEnv(int level, const char *id, _Out_ void **env)'],
  CreateSessionFromArray: [8, 'void *CreateSessionFromArray(void *env, const void *model, size_t length, void *options, _Out_ void **session)'],
  Run: [9, 'void *Run(void *session, void *runOptions, const char **inputNames, void **inputs, size_t inputCount, const char **outputNames, size_t outputCount, _Inout_ void **outputs)'],
  CreateSessionOptions: [10, 'void *CreateSessionOptions(_Out_ void **options)'],
  SetSessionExecutionMode: [13, 'void *SetSessionExecutionMode(void *options, int mode)'],
  SetSessionLogSeverityLevel: [22, 'void *SetSessionLogSeverityLevel(void *options, int level)'],
  SetSessionGraphOptimizationLevel: [23, 'void *SetSessionGraphOptimizationLevel(void *options, int level)'],
  SetIntraOpNumThreads: [24, 'void *SetIntraOpNumThreads(void *options, int threads)'],
  SetInterOpNumThreads: [25, 'void *SetInterOpNumThreads(void *options, int threads)'],
  CreateTensorWithDataAsOrtValue: [49, 'void *CreateTensorWithDataAsOrtValue(void *memoryInfo, void *data, size_t bytes, const int64_t *shape, size_t rank, int type, _Out_ void **value)'],
  GetTensorMutableData: [51, 'void *GetTensorMutableData(void *value, _Out_ void **data)'],
  GetDimensionsCount: [61, 'void *GetDimensionsCount(void *info, _Out_ size_t *count)'],
  GetDimensions: [62, 'void *GetDimensions(void *info, _Out_ int64_t *dims, size_t count)'],
  GetTensorTypeAndShape: [65, 'void *GetTensorTypeAndShape(void *value, _Out_ void **info)'],
  CreateCpuMemoryInfo: [69, 'void *CreateCpuMemoryInfo(int allocator, int memType, _Out_ void **info)'],
  ReleaseStatus: [93, 'void ReleaseStatus(void *status)'],
  ReleaseSession: [95, 'void ReleaseSession(void *session)'],
  ReleaseValue: [96, 'void ReleaseValue(void *value)'],
  ReleaseTensorTypeAndShapeInfo: [99, 'void ReleaseTensorTypeAndShapeInfo(void *info)'],
  ReleaseSessionOptions: [100, 'void ReleaseSessionOptions(void *options)'],
  AddSessionConfigEntry: [130, 'void *AddSessionConfigEntry(void *options, const char *key, const char *value)'],
} as const;

type Api = { [K in keyof typeof FUNCTIONS]: NativeFunction };

const BYTES: Record<ElemTypeName, number> = { float: 4, int32: 4, int64: 8, bool: 1 };

function elementType(data: OrtData): number {
  if (data instanceof Float32Array) return ElemType.float;
  if (data instanceof Int32Array) return ElemType.int32;
  if (data instanceof BigInt64Array) return ElemType.int64;
  return ElemType.bool;
}

function newArray(type: ElemTypeName, length: number): OrtData {
  if (type === 'float') return new Float32Array(length);
  if (type === 'int32') return new Int32Array(length);
  if (type === 'int64') return new BigInt64Array(length);
  return new Uint8Array(length);
}

/** The shared library next to onnxruntime-node's binding, for this platform. */
function libraryPath(): string {
  const packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const dir = path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
  const name = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => /^(lib)?onnxruntime[.\d]*\.(so[.\d]*|dylib|dll)$/.test(f)) : undefined;
  if (name === undefined) throw new Error(`no ONNX Runtime library in ${dir}`);
  return path.join(dir, name);
}

let loaded: OrtCApi | Error | undefined;

/** ONNX Runtime loaded through its C API: sessions whose outputs are written into the caller's arrays. */
export class OrtCApi {
  private constructor(
    private readonly api: Api,
    private readonly env: Pointer,
    private readonly memoryInfo: Pointer,
  ) {}

  /**
   * Loads koffi and ONNX Runtime's library, once per thread (later calls get the same object, or
   * the same error). Throws an Error naming the reason (koffi missing, no library for this
   * platform, an API version the library lacks).
   */
  static load(): OrtCApi {
    if (loaded === undefined) {
      try {
        loaded = OrtCApi.loadNow();
      } catch (error) {
        loaded = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (loaded instanceof Error) throw loaded;
    return loaded;
  }

  private static loadNow(): OrtCApi {
    // Required lazily: koffi and onnxruntime-node are optional dependencies.
    const koffi = require('koffi') as Koffi;
    const library = koffi.load(libraryPath());
    const ApiBase = koffi.struct('OrtApiBase', { GetApi: 'void *', GetVersionString: 'void *' });
    const base = koffi.decode(library.func('void *OrtGetApiBase(void)')(), ApiBase) as { GetApi: Pointer };
    const table = (koffi.decode(base.GetApi, koffi.proto('void *OrtGetApi(uint32_t version)')) as NativeFunction)(API_VERSION);
    if (table === null) throw new Error(`the ONNX Runtime library has no C API version ${API_VERSION}`);
    const pointers = koffi.decode(table, koffi.array('void *', 1 + Math.max(...Object.values(FUNCTIONS).map(([i]) => i)))) as Pointer[];
    const api = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, [index, signature]]) =>
      [name, koffi.decode(pointers[index], koffi.proto(signature)) as NativeFunction])) as Api;
    const out: Pointer[] = [null];
    const check = (status: unknown, what: string) => OrtCApi.check(api, status, what);
    check(api.CreateEnv(ORT_LOGGING_LEVEL_ERROR, 'cifar-ssl', out), 'CreateEnv');
    const env = out[0];
    check(api.CreateCpuMemoryInfo(ORT_DEVICE_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, out), 'CreateCpuMemoryInfo');
    return new OrtCApi(api, env, out[0]);
  }

  private static check(api: Api, status: unknown, what: string): void {
    if (status === null) return;
    const message = api.GetErrorMessage(status) as string;
    api.ReleaseStatus(status);
    throw new Error(`onnxruntime ${what}: ${message}`);
  }

  private check(status: unknown, what: string): void {
    OrtCApi.check(this.api, status, what);
  }

  /** Compiles an ONNX model with the options the binding path uses (optimisation level all, sequential). */
  createSession(model: Uint8Array, threads: number, spinning: boolean): CApiSession {
    const { api } = this;
    const out: Pointer[] = [null];
    this.check(api.CreateSessionOptions(out), 'CreateSessionOptions');
    const options = out[0];
    try {
      this.check(api.SetIntraOpNumThreads(options, threads), 'SetIntraOpNumThreads');
      this.check(api.SetInterOpNumThreads(options, 1), 'SetInterOpNumThreads');
      this.check(api.SetSessionGraphOptimizationLevel(options, ORT_ENABLE_ALL), 'SetSessionGraphOptimizationLevel');
      this.check(api.SetSessionExecutionMode(options, ORT_SEQUENTIAL), 'SetSessionExecutionMode');
      this.check(api.SetSessionLogSeverityLevel(options, ORT_LOGGING_LEVEL_FATAL), 'SetSessionLogSeverityLevel');
      this.check(api.AddSessionConfigEntry(options, 'session.intra_op.allow_spinning', spinning ? '1' : '0'), 'AddSessionConfigEntry');
      this.check(api.CreateSessionFromArray(this.env, model, model.byteLength, options, out), 'CreateSessionFromArray');
    } finally {
      api.ReleaseSessionOptions(options);
    }
    return new CApiSession(api, out[0], this.memoryInfo, (status, what) => this.check(status, what));
  }
}

/** One compiled graph. */
export class CApiSession {
  /** int64 shapes by their text, so a run does not convert the same dims again */
  private readonly shapes = new Map<string, BigInt64Array>();

  constructor(
    private readonly api: Api,
    private session: Pointer,
    private readonly memoryInfo: Pointer,
    private readonly check: (status: unknown, what: string) => void,
  ) {}

  private shape(dims: readonly number[]): BigInt64Array {
    const key = dims.join(',');
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      shape = BigInt64Array.from(dims, (d) => BigInt(d));
      this.shapes.set(key, shape);
    }
    return shape;
  }

  /** An ORT tensor over `data` (not copied: ORT reads and writes the array itself). */
  private tensor(data: OrtData, dims: readonly number[]): Pointer {
    const out: Pointer[] = [null];
    this.check(this.api.CreateTensorWithDataAsOrtValue(this.memoryInfo, data, data.byteLength, this.shape(dims), dims.length, elementType(data), out), 'CreateTensorWithDataAsOrtValue');
    return out[0];
  }

  /**
   * Runs the graph. Outputs with fixed dims are written into `into` or a new array; an output
   * whose dims the graph leaves open is allocated by ORT and copied out.
   */
  run(feeds: readonly Feed[], outputs: readonly OutputRequest[]): OrtData[] {
    if (this.session === null) throw new Error('onnxruntime: this session was disposed');
    const values: Pointer[] = [];
    try {
      const inputs = feeds.map((feed) => {
        const value = this.tensor(feed.data, feed.dims);
        values.push(value);
        return value;
      });
      const results = outputs.map((o) => (o.dims === undefined ? undefined : o.into ?? newArray(o.type, o.dims.reduce((a, b) => a * b, 1))));
      const fetched: Pointer[] = outputs.map((o, i) => {
        const target = results[i];
        return target === undefined || o.dims === undefined ? null : this.tensor(target, o.dims);
      });
      for (const value of fetched) if (value !== null) values.push(value);
      this.check(this.api.Run(this.session, null, feeds.map((f) => f.name), inputs, feeds.length, outputs.map((o) => o.name), outputs.length, fetched), 'Run');
      return outputs.map((o, i) => {
        const result = results[i];
        if (result !== undefined) return result;
        values.push(fetched[i]);
        return this.copyOut(fetched[i], o.type);
      });
    } finally {
      for (const value of values) this.api.ReleaseValue(value);
    }
  }

  /** The values of an ORT-allocated tensor, in a new array. */
  private copyOut(value: Pointer, type: ElemTypeName): OrtData {
    const { api } = this;
    const out: Pointer[] = [null];
    this.check(api.GetTensorTypeAndShape(value, out), 'GetTensorTypeAndShape');
    const info = out[0];
    let length: number;
    try {
      const count = [0];
      this.check(api.GetDimensionsCount(info, count), 'GetDimensionsCount');
      const dims = new BigInt64Array(count[0]);
      this.check(api.GetDimensions(info, dims, count[0]), 'GetDimensions');
      length = dims.reduce((a, b) => a * Number(b), 1);
    } finally {
      api.ReleaseTensorTypeAndShapeInfo(info);
    }
    const result = newArray(type, length);
    if (length === 0) return result;
    this.check(api.GetTensorMutableData(value, out), 'GetTensorMutableData');
    const koffi = require('koffi') as Koffi;
    new Uint8Array(result.buffer).set(new Uint8Array(koffi.view(out[0], length * BYTES[type])));
    return result;
  }

  dispose(): void {
    if (this.session !== null) this.api.ReleaseSession(this.session);
    this.session = null;
  }
}
