/**
 * Float32 blocks inside one WebAssembly.Memory, so that the SIMD kernels work on tensors in
 * place. The memory is created at its full size and never grown (growing would detach every
 * typed array viewing it); the OS commits pages only as they are first written. Freed blocks are
 * kept in exact-size free lists: a training step allocates the same sizes every time.
 */
import type { BatchNormSimd } from './batchnorm-kernels';
import { compileBatchNormForChannels, unrollable } from './batchnorm-unrolled';
import { compileSimdKernels, type SimdKernels } from './kernels';
import { wasm, type WasmMemory } from './wasm-api';

const PAGE_BYTES = 65536;
/** blocks start on cache lines */
const ALIGN = 64;
/** the first bytes hold small operands the kernels need in the memory (per-channel vectors) */
const SCRATCH_BYTES = 1 << 20;
/** scratch slots, each a vector of at most SCRATCH_SLOT_FLOATS floats */
export const SCRATCH_SLOTS = 8;
export const SCRATCH_SLOT_FLOATS = SCRATCH_BYTES / 4 / SCRATCH_SLOTS;

/**
 * The SIMD kernels compiled against one memory, with the batch-norm kernels compiled per channel
 * count on first use. The arena holds one; the row thread (parallel/row-worker.ts) holds another
 * over the same shared memory.
 */
export class CompiledKernels {
  readonly kernels: SimdKernels;
  private readonly batchNormByChannels = new Map<number, BatchNormSimd>();

  constructor(readonly memory: WasmMemory) {
    this.kernels = compileSimdKernels(memory);
  }

  /**
   * Batch-norm kernels for rows of `channels` floats: compiled for that count where it is a
   * multiple of 4 (batchnorm-unrolled.ts, once per count), else the generic ones.
   */
  batchNorm(channels: number): BatchNormSimd {
    if (!unrollable(channels)) return this.kernels.batchNorm;
    let kernels = this.batchNormByChannels.get(channels);
    if (kernels === undefined) {
      kernels = compileBatchNormForChannels(this.memory, channels);
      this.batchNormByChannels.set(channels, kernels);
    }
    return kernels;
  }
}

/** What a kernel needs of an arena: the SIMD kernels and whether an array lies in their memory. */
export interface KernelMemory {
  readonly kernels: SimdKernels;
  contains(values: unknown): values is Float32Array;
}

/**
 * Another thread's view of a shared arena (parallel/background-worker.ts): its own compilation of
 * the kernels over the same memory, and arrays at offsets the arena's owner hands it. It
 * allocates nothing: every block it works in was taken by the owner.
 */
export class ArenaView implements KernelMemory {
  readonly compiled: CompiledKernels;

  constructor(readonly memory: WasmMemory) {
    this.compiled = new CompiledKernels(memory);
  }

  get kernels(): SimdKernels {
    return this.compiled.kernels;
  }

  /** The `length` floats at byte `offset`. */
  floats(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  contains(values: unknown): values is Float32Array {
    return inMemory(values, this.memory);
  }
}

function inMemory(values: unknown, memory: WasmMemory): values is Float32Array {
  return values instanceof Float32Array && values.buffer === memory.buffer && values.byteOffset >= SCRATCH_BYTES;
}

export class WasmArena implements KernelMemory {
  readonly memory: WasmMemory;
  readonly compiled: CompiledKernels;
  private top = SCRATCH_BYTES;
  private readonly limit: number;
  /** block start offsets (ascending: blocks are only ever cut from the top), sizes, live views */
  private readonly starts: number[] = [];
  private readonly sizes: number[] = [];
  private readonly views: number[] = [];
  private readonly free = new Map<number, number[]>();

  /**
   * Throws where WebAssembly SIMD or a memory of `bytes` is unavailable. `shared`: the memory is
   * a SharedArrayBuffer, so that other threads can run kernels on the same tensors.
   */
  constructor(bytes: number, readonly shared = false) {
    const pages = Math.min(65535, Math.ceil(bytes / PAGE_BYTES));
    this.memory = new wasm.Memory({ initial: pages, maximum: pages, shared });
    this.limit = pages * PAGE_BYTES;
    this.compiled = new CompiledKernels(this.memory);
  }

  get kernels(): SimdKernels {
    return this.compiled.kernels;
  }

  /** See CompiledKernels.batchNorm. */
  batchNorm(channels: number): BatchNormSimd {
    return this.compiled.batchNorm(channels);
  }

  /** Bytes handed out as blocks so far (free or not): stops growing once sizes repeat. */
  get usedBytes(): number {
    return this.top - SCRATCH_BYTES;
  }

  /** A block of `length` floats with arbitrary contents, or undefined when the arena is full. */
  take(length: number): Float32Array | undefined {
    const bytes = Math.ceil((length * 4) / ALIGN) * ALIGN;
    const index = this.free.get(bytes)?.pop() ?? this.cut(bytes);
    if (index === undefined) return undefined;
    return new Float32Array(this.memory.buffer, this.starts[index], length);
  }

  /** Whether `values` lies in this arena. */
  contains(values: unknown): values is Float32Array {
    return inMemory(values, this.memory);
  }

  /** A tensor now views (part of) the block under `values`. */
  retain(values: Float32Array): void {
    this.views[this.blockOf(values.byteOffset)]++;
  }

  /** A tensor viewing `values` is gone; the block is reused once no tensor views it. */
  release(values: Float32Array): void {
    const index = this.blockOf(values.byteOffset);
    if (--this.views[index] === 0) this.fileFree(index);
  }

  /** Returns a block taken for scratch work (never held by a tensor). */
  recycle(values: Float32Array): void {
    const index = this.blockOf(values.byteOffset);
    if (this.views[index] === 0) this.fileFree(index);
  }

  /** Copies a small vector (at most SCRATCH_SLOT_FLOATS) into scratch slot 0..7 and returns its byte offset. */
  scratch(slot: number, values: ArrayLike<number>): number {
    this.scratchView(slot, values.length).set(values);
    return slot * SCRATCH_SLOT_FLOATS * 4;
  }

  /** The first `length` floats of scratch slot 0..7 (where a kernel left a small result). */
  scratchView(slot: number, length: number): Float32Array {
    if (slot < 0 || slot >= SCRATCH_SLOTS || length > SCRATCH_SLOT_FLOATS) throw new Error(`scratch slot ${slot} cannot hold ${length} floats`);
    return new Float32Array(this.memory.buffer, slot * SCRATCH_SLOT_FLOATS * 4, length);
  }

  private fileFree(index: number): void {
    const list = this.free.get(this.sizes[index]) ?? [];
    list.push(index);
    this.free.set(this.sizes[index], list);
  }

  private cut(bytes: number): number | undefined {
    if (this.top + bytes > this.limit) return undefined;
    this.starts.push(this.top);
    this.sizes.push(bytes);
    this.views.push(0);
    this.top += bytes;
    return this.starts.length - 1;
  }

  /** The block containing byte `offset` (binary search over the ascending starts). */
  private blockOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
