/**
 * Filter gradients computed on a background thread while the main thread goes on with the
 * backward pass.
 *
 * Why: the main thread runs batch norm, element-wise passes, layouts and tfjs itself on one core,
 * and ONNX Runtime's second thread joins it only inside convolutions, so half of a 2-core machine
 * idles for much of a step. A filter gradient dw is read by nothing until the optimizer applies
 * it at the end of the step, so it need not be ready when its kernel returns: the kernel hands
 * the job to this thread and returns a tensor whose values arrive later. The first read of those
 * values (OnnxBackend wraps its tensor storage for this) waits for the job. The background thread
 * runs the same layouts and the same ORT convolution as the main thread would
 * (computeFilterGradByConv), so the values are the same.
 *
 * In place: x, dy, the layouts' scratch buffers and dw all lie in the main thread's SIMD arena,
 * a shared memory the thread compiles its own kernels over. The main thread takes the scratch
 * blocks and holds x and dy (so that no tensor reuses their blocks) until the job is settled;
 * nothing is copied. (An earlier version copied x and dy over; on an Intel Xeon machine the thread
 * then saved nothing, `npm run bench:background` 0.995 against 0.90-0.95 in place.)
 *
 * How: jobs are posted on a MessagePort in order and counted in a shared control block; the
 * thread runs them in order and publishes the number of the last one done, which the main thread
 * waits on with Atomics.wait.
 */
import { receiveMessageOnPort, type MessagePort, type Worker } from 'worker_threads';
import type { ConvGeometry } from '../conv-graphs';
import { filterGradScratchLengths } from '../kernels/filter-grad-by-conv';
import type { WasmArena } from '../simd/arena';
import type { WasmMemory } from '../simd/wasm-api';
import { START_TIMEOUT_MS, startWorker, waitUntilStarted } from './start-worker';

/** Int32 slots of the control block. */
export const SUBMITTED = 0;
export const DONE = 1;
export const STOP = 2;
/** 1 once the thread has loaded ORT, -1 if it could not */
export const READY = 3;

/** How long the main thread waits for one job before giving up. */
const JOB_TIMEOUT_MS = 600_000;

/** What the thread is told when it starts. */
export interface BackgroundStart {
  control: SharedArrayBuffer;
  port: MessagePort;
  /** the main thread's SIMD arena */
  memory: WasmMemory;
}

/** An array in the arena: byte offset and length in floats. */
export interface ArenaSpan {
  offset: number;
  length: number;
}

/** A filter gradient of x and dy into dw, with the layouts in xb and wb, all in the arena. */
export interface FilterGradJob {
  kind: 'filter-grad-by-conv';
  id: number;
  g: ConvGeometry;
  block: number;
  x: ArenaSpan;
  dy: ArenaSpan;
  xb: ArenaSpan;
  wb: ArenaSpan;
  dw: ArenaSpan;
}

/** Messages from the thread. */
export type FromBackground = { kind: 'error'; id: number; message: string };

interface PendingJob {
  id: number;
  /** blocks held for the job: x and dy (released), the scratch buffers (recycled) */
  held: Float32Array[];
  scratch: Float32Array[];
}

const span = (values: Float32Array): ArenaSpan => ({ offset: values.byteOffset, length: values.length });

export class BackgroundRunner {
  private readonly control = new SharedArrayBuffer(4 * 4);
  private readonly flags = new Int32Array(this.control);
  private thread: { worker: Worker; port: MessagePort } | undefined;
  private started = false;
  private submitted = 0;
  /** tensor values still to arrive, by the array the tensor holds */
  private readonly pending = new Map<Float32Array, PendingJob>();
  private readonly failures = new Map<number, string>();
  /** why the thread could not start, once it failed to */
  failure: string | undefined;
  /** false: hand no new jobs over (bench/paired-steps.ts switches it step by step) */
  enabled = true;

  constructor(private readonly arena: WasmArena) {
    if (!arena.shared) throw new Error('the background thread needs a shared SIMD arena');
  }

  /** Whether the thread is computing a job right now. */
  get working(): boolean {
    return this.submitted > Atomics.load(this.flags, DONE);
  }

  /** Jobs handed to the thread so far. */
  get jobsSubmitted(): number {
    return this.submitted;
  }

  /** Whether some tensor's values are still to arrive (cheap: checked on every storage read). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Hands the filter gradient of `g` (see computeFilterGradByConv) to the thread; its values are
   * in `dw` once settle(dw) has been called. False when the thread is unavailable or busy, or an
   * array is not in the arena (or the arena has no room for the layouts): the caller computes it.
   */
  filterGradByConv(g: ConvGeometry, block: number, x: Float32Array, dy: Float32Array, dw: Float32Array): boolean {
    if (!this.enabled) return false;
    const arena = this.arena;
    if (!arena.contains(x) || !arena.contains(dy) || !arena.contains(dw)) return false;
    const thread = this.start();
    // Only to an idle thread: the layers come in the backward pass's order, the largest last,
    // and a queue would leave the main thread waiting for it at the end of the step. A job the
    // thread cannot take now runs on the main thread.
    if (thread === undefined || this.working) return false;
    const lengths = filterGradScratchLengths(g, block);
    const xb = arena.take(lengths.xb);
    const wb = arena.take(lengths.wb);
    if (xb === undefined || wb === undefined) {
      for (const values of [xb, wb]) if (values !== undefined) arena.recycle(values);
      return false;
    }
    arena.retain(x);
    arena.retain(dy);
    const id = ++this.submitted;
    const job: FilterGradJob = { kind: 'filter-grad-by-conv', id, g, block, x: span(x), dy: span(dy), xb: span(xb), wb: span(wb), dw: span(dw) };
    thread.port.postMessage(job);
    Atomics.store(this.flags, SUBMITTED, id);
    Atomics.notify(this.flags, SUBMITTED);
    this.pending.set(dw, { id, held: [x, dy], scratch: [xb, wb] });
    return true;
  }

  /** If `values` are still to arrive, waits for them. */
  settle(values: unknown): void {
    const job = values instanceof Float32Array ? this.pending.get(values) : undefined;
    if (job === undefined) return;
    this.pending.delete(values as Float32Array);
    // Not on a timeout: a thread still running the job would write into blocks handed out again.
    this.waitFor(job.id);
    for (const held of job.held) this.arena.release(held);
    for (const scratch of job.scratch) this.arena.recycle(scratch);
    const failure = this.failures.get(job.id);
    if (failure !== undefined) {
      this.failures.delete(job.id);
      throw new Error(`onnx backend: the background filter gradient failed: ${failure}`);
    }
  }

  /** Ends the thread (it also ends with the process). Values still pending are waited for first. */
  dispose(): void {
    for (const values of [...this.pending.keys()]) this.settle(values);
    if (this.thread === undefined) return;
    Atomics.store(this.flags, STOP, 1);
    Atomics.notify(this.flags, SUBMITTED);
    this.thread.port.close();
    void this.thread.worker.terminate();
    this.thread = undefined;
  }

  private waitFor(id: number): void {
    for (let done = Atomics.load(this.flags, DONE); done < id; done = Atomics.load(this.flags, DONE)) {
      if (Atomics.wait(this.flags, DONE, done, JOB_TIMEOUT_MS) === 'timed-out' && Atomics.load(this.flags, DONE) === done) {
        throw new Error(`onnx backend: the background thread did not finish job ${id} within ${JOB_TIMEOUT_MS / 1000} s`);
      }
    }
    const port = this.thread?.port;
    for (let received = port && receiveMessageOnPort(port); received !== undefined; received = port && receiveMessageOnPort(port)) {
      const message = received.message as FromBackground;
      this.failures.set(message.id, message.message);
    }
  }

  /** Starts the thread on first use; on failure, says why once and stays without it. */
  private start(): { worker: Worker; port: MessagePort } | undefined {
    if (this.started) return this.thread;
    this.started = true;
    let worker: Worker | undefined;
    try {
      const start: Omit<BackgroundStart, 'port'> = { control: this.control, memory: this.arena.memory };
      const thread = startWorker('background-worker.ts', start, 'the background thread');
      worker = thread.worker;
      waitUntilStarted(this.flags, READY, thread.port, Date.now() + START_TIMEOUT_MS);
      this.thread = thread;
    } catch (error) {
      this.failure = error instanceof Error ? error.message : String(error);
      console.warn(`onnx backend: no background thread (${this.failure}); filter gradients run on the main thread`);
      if (worker !== undefined) void worker.terminate();
    }
    return this.thread;
  }
}
