/**
 * Recycles the float32 output buffers of this backend's kernels. A fresh multi-megabyte typed
 * array costs more than the element-wise pass that fills it (the pages are faulted in and zeroed),
 * and a training step frees and reallocates the same sizes every time.
 *
 * A buffer goes back to the pool only when no live tensor views it any more (counted per
 * ArrayBuffer, so views made by other kernels count too) and it was never handed out by readSync
 * (dataSync() returns the backend's array itself, which the caller may keep).
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<ArrayBuffer>();
  private readonly escaped = new WeakSet<ArrayBuffer>();
  private readonly liveViews = new Map<ArrayBuffer, number>();
  private pooledBytes = 0;

  /** @param capacityBytes most bytes kept for reuse; beyond that freed buffers go to the GC */
  constructor(readonly capacityBytes: number) {}

  /** A float32 array of `length` elements with arbitrary contents. */
  take(length: number): Float32Array {
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

  /** Takes ownership of `values`, an array nothing else references, so it can be recycled later. */
  adopt(values: Float32Array): void {
    if (values.byteOffset === 0 && values.byteLength === values.buffer.byteLength && values.buffer instanceof ArrayBuffer) {
      this.owned.add(values.buffer);
    }
  }

  /** A tensor now views `values`. */
  retain(values: unknown): void {
    const buffer = ownedBuffer(values, this.owned);
    if (buffer !== undefined) this.liveViews.set(buffer, (this.liveViews.get(buffer) ?? 0) + 1);
  }

  /** A tensor that viewed `values` is gone; the buffer is reused once no tensor views it. */
  release(values: unknown): void {
    const buffer = ownedBuffer(values, this.owned);
    if (buffer === undefined) return;
    const views = (this.liveViews.get(buffer) ?? 1) - 1;
    if (views > 0) {
      this.liveViews.set(buffer, views);
      return;
    }
    this.liveViews.delete(buffer);
    if (this.escaped.has(buffer) || this.pooledBytes + buffer.byteLength > this.capacityBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.pooledBytes += buffer.byteLength;
  }

  /** `values` left the backend (read by the user): never reuse its buffer. */
  escape(values: unknown): void {
    const buffer = ownedBuffer(values, this.owned);
    if (buffer !== undefined) this.escaped.add(buffer);
  }

  /** Drops every pooled buffer. */
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
