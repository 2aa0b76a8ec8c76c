/**
 * Output buffers of this backend's kernels, recycled. A fresh multi-megabyte typed array costs
 * more than the element-wise pass that fills it (its pages are faulted in and zeroed), and a
 * training step frees and reallocates the same sizes every time.
 *
 * Buffers come from the WebAssembly arena when there is one and it has room (so the SIMD kernels
 * can use them), else from ordinary memory. A buffer is reused only when no live tensor views it
 * any more (views made by other kernels count too). readSync hands out copies of pooled buffers,
 * since dataSync() gives its array to the caller, who may keep it.
 */
import type { WasmArena } from './simd/arena';

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<ArrayBuffer>();
  private readonly liveViews = new Map<ArrayBuffer, number>();
  private pooledBytes = 0;

  /**
   * @param arena WebAssembly memory for buffers the SIMD kernels can use (undefined: none)
   * @param capacityBytes most bytes of ordinary memory kept for reuse; beyond that, the GC's
   * @param poison fill every buffer handed out with NaN (tests: a kernel that leaves part of its
   *   output unwritten then fails its comparison instead of passing on fresh zeroed memory)
   */
  constructor(
    readonly arena: WasmArena | undefined,
    readonly capacityBytes: number,
    readonly poison = false,
  ) {}

  /** A float32 array of `length` elements with arbitrary contents. */
  take(length: number): Float32Array {
    const buffer = this.takeUnpoisoned(length);
    return this.poison ? buffer.fill(NaN) : buffer;
  }

  private takeUnpoisoned(length: number): Float32Array {
    const block = this.arena?.take(length);
    if (block !== undefined) return block;
    const recycled = this.free.get(length * 4)?.pop();
    if (recycled !== undefined) {
      this.pooledBytes -= recycled.byteLength;
      return new Float32Array(recycled, 0, length);
    }
    // allocUnsafeSlow skips the zero fill and reuses freed heap memory: a zeroed typed array of
    // this size arrives as fresh pages, each faulted in on first write.
    const fresh = Buffer.allocUnsafeSlow(length * 4);
    const buffer = fresh.buffer as ArrayBuffer;
    this.owned.add(buffer);
    return new Float32Array(buffer, fresh.byteOffset, length);
  }

  /**
   * The array a new tensor should hold for `values`: a large float32 array from elsewhere (an ORT
   * output, a cpu kernel's result, tf.ones) is copied into the arena when it has room, so the
   * SIMD kernels can read it; anything else is kept as it is.
   */
  intern(values: unknown, minLength: number): unknown {
    if (!(values instanceof Float32Array) || values.length < minLength || this.pooled(values)) return values;
    const block = this.arena?.take(values.length);
    if (block === undefined) return values;
    block.set(values);
    return block;
  }

  /** Whether `values` is one of this pool's buffers (or a view of one). */
  pooled(values: unknown): boolean {
    return this.arena?.contains(values) === true || ownedBuffer(values, this.owned) !== undefined;
  }

  /** A tensor now views `values`. */
  retain(values: unknown): void {
    if (this.arena?.contains(values)) {
      this.arena.retain(values);
      return;
    }
    const buffer = ownedBuffer(values, this.owned);
    if (buffer !== undefined) this.liveViews.set(buffer, (this.liveViews.get(buffer) ?? 0) + 1);
  }

  /** A tensor that viewed `values` is gone; its buffer is reused once no tensor views it. */
  release(values: unknown): void {
    if (this.arena?.contains(values)) {
      this.arena.release(values);
      return;
    }
    const buffer = ownedBuffer(values, this.owned);
    if (buffer === undefined) return;
    const views = (this.liveViews.get(buffer) ?? 1) - 1;
    if (views > 0) {
      this.liveViews.set(buffer, views);
      return;
    }
    this.liveViews.delete(buffer);
    this.keep(buffer);
  }

  /** Returns a buffer from take() that was used as scratch space and never held by a tensor. */
  recycle(values: Float32Array): void {
    if (this.arena?.contains(values)) {
      this.arena.recycle(values);
      return;
    }
    const buffer = ownedBuffer(values, this.owned);
    if (buffer !== undefined && !this.liveViews.has(buffer)) this.keep(buffer);
  }

  /** Files a free buffer for reuse while the capacity allows. */
  private keep(buffer: ArrayBuffer): void {
    if (this.pooledBytes + buffer.byteLength > this.capacityBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.pooledBytes += buffer.byteLength;
  }

  /** Drops every pooled ordinary buffer. */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}

function ownedBuffer(values: unknown, owned: WeakSet<ArrayBuffer>): ArrayBuffer | undefined {
  if (!ArrayBuffer.isView(values)) return undefined;
  const buffer = values.buffer;
  return buffer instanceof ArrayBuffer && owned.has(buffer) ? buffer : undefined;
}
