/**
 * Chunked sums shared out between the main thread and helper threads (worker_threads), each
 * running single-threaded ORT sessions, synchronously as tfjs kernels must be.
 *
 * Why: the filter gradient is a sum of small GEMMs over chunks of images, whose 16x16 to 64x64
 * outputs give ORT's own threads little to split (two ORT threads on one GEMM ran only about 1.2x
 * faster than one). Whole chunks on two threads ran 1.4-1.8x faster, measured on the 2-core
 * machines of this project.
 *
 * How: the main thread posts the job on a MessagePort per helper and bumps a job number in a
 * shared control block; every thread then claims chunk indices from a shared counter until none
 * are left, writing each chunk's output to its own slot of a shared results buffer, and the main
 * thread waits on each helper's done number. The slots are summed in chunk order, so the result
 * does not depend on which thread ran which chunk.
 */
import { receiveMessageOnPort, type MessagePort, type Worker } from 'worker_threads';
import type { OrtRuntime } from '../runtime';
import { runChunk, sumChunkResults, type ChunkedSumJob } from './chunked-sum';
import { START_TIMEOUT_MS, startWorker, waitUntilStarted } from './start-worker';

/** Int32 slots of the control block. */
const NEXT_CHUNK = 0;
const JOB_NUMBER = 1;
/** Helper h reports at DONE_BASE + h: 1 once started, then the number of each job it has finished; -1 if it could not start. */
const DONE_BASE = 2;
export const STOP_JOB = -1;
const FIRST_JOB = 2;

/** What a helper is told when it starts. */
export interface HelperStart {
  index: number;
  control: SharedArrayBuffer;
  port: MessagePort;
}

/** Messages to a helper. */
export type ToHelper =
  | { kind: 'source'; slot: number; buffer: SharedArrayBuffer }
  | { kind: 'job'; job: ChunkedSumJob; sourceLengths: number[] };

/** Messages from a helper. */
export type FromHelper = { kind: 'error'; message: string };

interface Helper {
  worker: Worker;
  port: MessagePort;
  /** graph keys whose spec this helper has been sent */
  graphsSent: Set<string>;
}

export class ChunkedSumRunner {
  private readonly control = new SharedArrayBuffer(4 * (DONE_BASE + 64));
  private readonly flags = new Int32Array(this.control);
  private helpers: Helper[] | undefined;
  /** the job's sources as the helpers see them (slot i: source i), and the results in RESULTS_SLOT */
  private readonly shared: Float32Array[] = [];
  /** the main thread's memory for the regions of the chunks it runs */
  private memory = new Float32Array(0);
  private jobNumber = FIRST_JOB - 1;
  /** chunks of the last job the main thread ran itself (the helpers ran the rest) */
  lastJobMainChunks = 0;
  /** why helpers could not start, once they failed to */
  helperFailure: string | undefined;

  /**
   * @param runtime single-threaded ORT sessions for the main thread's chunks
   * @param helperCount helper threads to start on first use (0: the main thread runs every chunk)
   */
  constructor(private readonly runtime: OrtRuntime, readonly helperCount: number) {
    if (helperCount > 64) throw new RangeError(`at most 64 helper threads, not ${helperCount}`);
    Atomics.store(this.flags, JOB_NUMBER, this.jobNumber);
  }

  /** Helper threads running (after first use; 0 before, or when they could not start). */
  get activeHelpers(): number {
    return this.helpers?.length ?? 0;
  }

  /**
   * Runs every chunk of `job` on `sources` (any arrays: the helpers get copies in shared memory)
   * and returns the sum of the chunks' outputs.
   */
  sum(job: ChunkedSumJob, sources: readonly Float32Array[]): Float32Array {
    if (sources.length > RESULTS_SLOT) throw new RangeError(`a chunked sum takes at most ${RESULTS_SLOT} sources, not ${sources.length}`);
    const helpers = this.startHelpers();
    const chunkCount = job.chunks.length;
    this.lastJobMainChunks = 0;
    if (helpers.length === 0 || chunkCount < 2) {
      const results = new Float32Array(chunkCount * job.outputSize);
      for (let c = 0; c < chunkCount; c++) this.memory = runChunk(this.runtime, job, c, sources, results, this.memory);
      this.lastJobMainChunks = chunkCount;
      return sumChunkResults(results, chunkCount, job.outputSize);
    }
    sources.forEach((source, slot) => this.sharedSlot(slot, source.length, helpers).set(source));
    const results = this.sharedSlot(RESULTS_SLOT, chunkCount * job.outputSize, helpers);
    this.jobNumber++;
    for (const helper of helpers) {
      const graphs: ChunkedSumJob['graphs'] = {};
      for (const chunk of job.chunks) {
        if (!helper.graphsSent.has(chunk.key)) {
          graphs[chunk.key] = job.graphs[chunk.key];
          helper.graphsSent.add(chunk.key);
        }
      }
      this.post(helper, { kind: 'job', job: { ...job, graphs }, sourceLengths: sources.map((source) => source.length) });
    }
    Atomics.store(this.flags, NEXT_CHUNK, 0);
    Atomics.store(this.flags, JOB_NUMBER, this.jobNumber);
    Atomics.notify(this.flags, JOB_NUMBER);
    let failure: unknown;
    try {
      for (let c = Atomics.add(this.flags, NEXT_CHUNK, 1); c < chunkCount; c = Atomics.add(this.flags, NEXT_CHUNK, 1)) {
        this.memory = runChunk(this.runtime, job, c, sources, results, this.memory);
        this.lastJobMainChunks++;
      }
    } catch (error) {
      failure = error;
      Atomics.store(this.flags, NEXT_CHUNK, chunkCount); // let the helpers stop early
    }
    helpers.forEach((helper, h) => {
      for (let done = Atomics.load(this.flags, DONE_BASE + h); done !== this.jobNumber; done = Atomics.load(this.flags, DONE_BASE + h)) {
        Atomics.wait(this.flags, DONE_BASE + h, done);
      }
      const reply = receiveMessageOnPort(helper.port)?.message as FromHelper | undefined;
      if (reply?.kind === 'error' && failure === undefined) failure = new Error(`helper thread ${h}: ${reply.message}`);
    });
    if (failure !== undefined) throw failure;
    return sumChunkResults(results, chunkCount, job.outputSize);
  }

  /** Stops the helper threads (they are also ended with the process). */
  dispose(): void {
    if (this.helpers === undefined) return;
    Atomics.store(this.flags, JOB_NUMBER, STOP_JOB);
    Atomics.notify(this.flags, JOB_NUMBER);
    for (const helper of this.helpers) {
      helper.port.close();
      void helper.worker.terminate();
    }
    this.helpers = [];
  }

  /** Shared memory of at least `elements` under `slot`, grown (and sent to the helpers) as needed. */
  private sharedSlot(slot: number, elements: number, helpers: readonly Helper[]): Float32Array {
    const held = this.shared[slot];
    if (held !== undefined && held.length >= elements) return held.subarray(0, elements);
    const grown = new Float32Array(new SharedArrayBuffer(Math.ceil(elements * 1.25) * 4));
    this.shared[slot] = grown;
    for (const helper of helpers) this.post(helper, { kind: 'source', slot, buffer: grown.buffer as SharedArrayBuffer });
    return grown.subarray(0, elements);
  }

  private post(helper: Helper, message: ToHelper): void {
    helper.port.postMessage(message);
  }

  /** Starts the helpers on first use; on any failure, goes on without them and says why once. */
  private startHelpers(): Helper[] {
    if (this.helpers !== undefined) return this.helpers;
    this.helpers = [];
    if (this.helperCount === 0) return this.helpers;
    const started: Helper[] = [];
    try {
      for (let h = 0; h < this.helperCount; h++) {
        const start: Omit<HelperStart, 'port'> = { index: h, control: this.control };
        const { worker, port } = startWorker('helper-worker.ts', start, `helper thread ${h}`);
        started.push({ worker, port, graphsSent: new Set() });
      }
      const deadline = Date.now() + START_TIMEOUT_MS;
      started.forEach((helper, h) => waitUntilStarted(this.flags, DONE_BASE + h, helper.port, deadline));
      this.helpers = started;
    } catch (error) {
      this.helperFailure = error instanceof Error ? error.message : String(error);
      console.warn(`onnx backend: no helper threads (${this.helperFailure}); the filter gradient runs on the main thread only`);
      for (const helper of started) void helper.worker.terminate();
    }
    return this.helpers;
  }
}

/** Shared slot of the results buffer; the sources take the slots below it. */
export const RESULTS_SLOT = 15;

/** Index of helper h's done number in the control block. */
export function doneIndex(h: number): number {
  return DONE_BASE + h;
}

export const CONTROL = { NEXT_CHUNK, JOB_NUMBER, FIRST_JOB } as const;
