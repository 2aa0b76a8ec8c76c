/**
 * Row passes (batch norm's statistics, output and gradient passes over [rows, C] data, and the
 * element-wise passes over whole activation maps: residual add + ReLU, ReLU's gradient, adds of
 * two maps) shared out between the main thread and a row thread that runs the same SIMD kernels on the same
 * tensors, in place, through the shared SIMD arena.
 *
 * Why: batch norm is the largest part of the main thread's own work after the convolutions
 * (about a fifth of a quick supervised step), and while it runs, ONNX Runtime's second thread has
 * nothing to do. Its passes read and write memory at a rate one core cannot saturate on these
 * machines, so a second thread on the same rows shortens them.
 *
 * How: a job is one kernel over `rows` rows, cut into chunks of rows that both threads claim from
 * one shared counter until none are left; the main thread then waits for the chunks still being
 * run. A thread that is slow to wake or busy elsewhere simply claims fewer chunks, so the main
 * thread never waits for more than the chunk the other one is running. Sums are written per block
 * of rows to a slot of their own and added by the caller in block order, so the result does not
 * depend on which thread ran which block: the values are those of one thread, bit for bit.
 *
 * The claim counter holds the job's tag in its upper 16 bits and the next chunk in its lower 16:
 * a thread that read an earlier job's parameters fails to claim, since the counter is retagged
 * (and made unclaimable while the parameters are rewritten) before each job.
 */
import { receiveMessageOnPort, type MessagePort, type Worker } from 'worker_threads';
import type { CompiledKernels, WasmArena } from '../simd/arena';
import { BINARY_OPS, type BinaryOp } from '../simd/kernels';
import { startWorker } from './start-worker';

/** Int32 slots of the control block. */
export const JOB = 0;
export const NEXT = 1;
export const CHUNKS_DONE = 2;
/** 1 once the thread has compiled its kernels, -1 if it could not */
export const READY = 3;
export const STOP = 4;
/** set by the thread when a kernel failed (the job's values are then not to be trusted) */
export const FAILED = 5;
export const KERNEL = 6;
export const CHANNELS = 7;
export const ROWS = 8;
export const CHUNK_ROWS = 9;
export const BLOCK_ROWS = 10;
export const ROW_ARGS = 11;
export const SLOT_ARGS = 12;
export const ARG_COUNT = 13;
export const COUNT_ARG = 14;
export const ARGS = 15;
const MAX_ARGS = 12;
export const CONTROL_INTS = ARGS + MAX_ARGS;

/** The counter while a job's parameters are being written: no tag matches it. */
export const UNCLAIMABLE = -1;
const TAG_SHIFT = 16;
const CHUNK_MASK = 0xffff;
export const tagOf = (job: number): number => job & 0x7fff;

/** The kernels a row job can run, by their index in the control block. */
export const ROW_KERNELS = [
  'channelSums', 'affine.plain', 'affine.relu',
  'gradientSums.plain', 'gradientSums.relu', 'gradientInput.plain', 'gradientInput.relu',
  'addRelu', 'reluGrad', ...BINARY_OPS.map((op) => `same.${op}` as const),
] as const;
export type RowKernel = (typeof ROW_KERNELS)[number];

type Kernel = (...args: number[]) => void;

/** The function of `name` among `compiled`'s kernels (batch norm's of `channels` channels). */
export function rowKernel(compiled: CompiledKernels, name: RowKernel, channels: number): Kernel {
  if (name === 'addRelu' || name === 'reluGrad') return compiled.kernels[name];
  if (name.startsWith('same.')) return compiled.kernels.same[name.slice('same.'.length) as BinaryOp];
  const kernels = compiled.batchNorm(channels);
  if (name === 'channelSums') return kernels.channelSums;
  const [pass, mode] = name.split('.') as ['affine' | 'gradientSums' | 'gradientInput', 'plain' | 'relu'];
  return kernels[pass][mode] as Kernel;
}

/**
 * One kernel over rows: its argument `countArg` (default: the one before last, as in batch norm's
 * (..., rows, C)) is the number of rows. Arguments in `rowArgs` are byte offsets of [rows, C]
 * arrays, moved to each block's first row; those in `slotArgs` are byte offsets of per-block
 * results of C floats, moved to the block's slot. An element-wise kernel (..., n) is a job of
 * rows of one float with countArg the last. Chunks of `chunkRows` rows are claimed, each run as
 * blocks of `blockRows` (a multiple of which chunkRows must be).
 */
export interface RowJob {
  kernel: RowKernel;
  channels: number;
  rows: number;
  args: number[];
  rowArgs: number[];
  slotArgs?: number[];
  countArg?: number;
  chunkRows: number;
  blockRows?: number;
}

/** Runs chunk `chunk` of a job given as plain numbers (the form both threads read it in). */
export function runChunk(
  kernel: Kernel, chunk: number, channels: number, rows: number, chunkRows: number, blockRows: number,
  rowMask: number, slotMask: number, countArg: number, args: number[],
): void {
  const end = Math.min(rows, (chunk + 1) * chunkRows);
  const call = args.slice();
  for (let first = chunk * chunkRows; first < end; first += blockRows) {
    const block = first / blockRows;
    for (let i = 0; i < args.length; i++) {
      if (rowMask & (1 << i)) call[i] = args[i] + first * channels * 4;
      else if (slotMask & (1 << i)) call[i] = args[i] + block * channels * 4;
    }
    call[countArg] = Math.min(blockRows, end - first);
    kernel(...call);
  }
}

/** Claims the next chunk of the job tagged `tag`, or returns -1 when there is none. */
export function claimChunk(flags: Int32Array, tag: number, chunks: number): number {
  for (;;) {
    const next = Atomics.load(flags, NEXT);
    if (next < 0 || next >>> TAG_SHIFT !== tag) return -1;
    const chunk = next & CHUNK_MASK;
    if (chunk >= chunks) return -1;
    if (Atomics.compareExchange(flags, NEXT, next, next + 1) === next) return chunk;
  }
}

/** Fewer chunks than this run here alone: waking the row thread would cost about as much as it saves. */
const MIN_SHARED_CHUNKS = 4;

const mask = (indices: readonly number[] = []): number => indices.reduce((m, i) => m | (1 << i), 0);

/** A job in the plain numbers runChunk takes, with its defaults filled in and checked. */
interface Plan {
  chunks: number;
  blockRows: number;
  rowMask: number;
  slotMask: number;
  countArg: number;
}

function plan(job: RowJob): Plan {
  const blockRows = job.blockRows ?? job.chunkRows;
  if (job.chunkRows % blockRows !== 0) throw new RangeError(`chunks of ${job.chunkRows} rows are not whole blocks of ${blockRows}`);
  if (job.args.length > MAX_ARGS) throw new RangeError(`a row job takes at most ${MAX_ARGS} arguments`);
  return {
    chunks: Math.ceil(job.rows / job.chunkRows),
    blockRows,
    rowMask: mask(job.rowArgs),
    slotMask: mask(job.slotArgs),
    countArg: job.countArg ?? job.args.length - 2,
  };
}

/** Runs chunk `chunk` of `job` (planned as `p`) on this thread. */
const runPlannedChunk = (kernel: Kernel, chunk: number, job: RowJob, p: Plan): void =>
  runChunk(kernel, chunk, job.channels, job.rows, job.chunkRows, p.blockRows, p.rowMask, p.slotMask, p.countArg, job.args);

/** Runs every chunk of `job` on this thread. */
export function runJobHere(compiled: CompiledKernels, job: RowJob): void {
  runAllHere(compiled, job, plan(job));
}

function runAllHere(compiled: CompiledKernels, job: RowJob, p: Plan): void {
  const kernel = rowKernel(compiled, job.kernel, job.channels);
  for (let chunk = 0; chunk < p.chunks; chunk++) runPlannedChunk(kernel, chunk, job, p);
}

export class RowSplitter {
  private readonly control = new SharedArrayBuffer(4 * CONTROL_INTS);
  private readonly flags = new Int32Array(this.control);
  private thread: { worker: Worker; port: MessagePort } | undefined;
  private started = false;
  private job = 0;
  /** false: every job runs on the main thread alone (bench/paired-steps.ts switches it step by step) */
  enabled = true;
  /** chunks run by the row thread so far (tests check that it takes part) */
  chunksElsewhere = 0;

  constructor(private readonly arena: WasmArena) {
    if (!arena.shared) throw new Error('row threads need a shared SIMD arena');
  }

  /** Whether the thread has started and compiled its kernels. */
  get ready(): boolean {
    return Atomics.load(this.flags, READY) === 1;
  }

  /** Runs `job` on the main thread and, when it is ready and the job has several chunks, the row thread. */
  run(job: RowJob): void {
    const p = plan(job);
    const chunks = p.chunks;
    if (!this.enabled || chunks < MIN_SHARED_CHUNKS || chunks > CHUNK_MASK || !this.start()) {
      runAllHere(this.arena.compiled, job, p);
      return;
    }
    const kernel = rowKernel(this.arena.compiled, job.kernel, job.channels);
    const flags = this.flags;
    this.job += 1;
    const tag = tagOf(this.job);
    Atomics.store(flags, NEXT, UNCLAIMABLE);
    flags[KERNEL] = ROW_KERNELS.indexOf(job.kernel);
    flags[CHANNELS] = job.channels;
    flags[ROWS] = job.rows;
    flags[CHUNK_ROWS] = job.chunkRows;
    flags[BLOCK_ROWS] = p.blockRows;
    flags[ROW_ARGS] = p.rowMask;
    flags[SLOT_ARGS] = p.slotMask;
    flags[ARG_COUNT] = job.args.length;
    flags[COUNT_ARG] = p.countArg;
    job.args.forEach((arg, i) => { flags[ARGS + i] = arg; });
    Atomics.store(flags, CHUNKS_DONE, 0);
    Atomics.store(flags, NEXT, tag << TAG_SHIFT);
    Atomics.store(flags, JOB, this.job);
    Atomics.notify(flags, JOB);
    let mine = 0;
    for (let chunk = claimChunk(flags, tag, chunks); chunk >= 0; chunk = claimChunk(flags, tag, chunks)) {
      runPlannedChunk(kernel, chunk, job, p);
      mine += 1;
    }
    Atomics.add(flags, CHUNKS_DONE, mine);
    for (let done = Atomics.load(flags, CHUNKS_DONE); done < chunks; done = Atomics.load(flags, CHUNKS_DONE)) {
      if (Atomics.wait(flags, CHUNKS_DONE, done, 60_000) === 'timed-out' && Atomics.load(flags, CHUNKS_DONE) === done) {
        throw new Error('onnx backend: the row thread did not finish its chunk within 60 s');
      }
    }
    this.chunksElsewhere += chunks - mine;
    if (Atomics.load(flags, FAILED) !== 0) {
      const reply = this.thread && (receiveMessageOnPort(this.thread.port)?.message as { message?: string } | undefined);
      throw new Error(`onnx backend: a row pass failed on the row thread: ${reply?.message ?? 'no reason given'}`);
    }
  }

  /** Ends the thread (it also ends with the process). */
  dispose(): void {
    Atomics.store(this.flags, STOP, 1);
    Atomics.add(this.flags, JOB, 1);
    Atomics.notify(this.flags, JOB);
    if (this.thread !== undefined) {
      this.thread.port.close();
      void this.thread.worker.terminate();
    }
    this.thread = undefined;
  }

  /** Starts the thread on first use without waiting for it: jobs run here alone until it is ready. */
  private start(): boolean {
    if (!this.started) {
      this.started = true;
      try {
        this.thread = startWorker('row-worker.ts', { control: this.control, memory: this.arena.memory }, 'the row thread');
      } catch (error) {
        console.warn(`onnx backend: no row thread (${error instanceof Error ? error.message : String(error)}); row passes run on the main thread alone`);
      }
    }
    return this.thread !== undefined && this.ready;
  }
}
