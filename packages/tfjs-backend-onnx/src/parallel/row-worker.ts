/**
 * The row thread of RowSplitter (row-threads.ts): compiles the SIMD kernels against the main
 * thread's shared arena, then claims chunks of each job it is woken for.
 */
import { workerData, type MessagePort } from 'worker_threads';
import { CompiledKernels } from '../simd/arena';
import type { WasmMemory } from '../simd/wasm-api';
import {
  ARG_COUNT, ARGS, BLOCK_ROWS, COUNT_ARG, CHANNELS, CHUNK_ROWS, CHUNKS_DONE, claimChunk, FAILED, JOB, KERNEL, READY,
  ROW_ARGS, ROW_KERNELS, rowKernel, ROWS, runChunk, SLOT_ARGS, STOP, tagOf,
} from './row-threads';

const { control, memory, port } = workerData as { control: SharedArrayBuffer; memory: WasmMemory; port: MessagePort };
const flags = new Int32Array(control);

function serve(compiled: CompiledKernels): void {
  let seen = Atomics.load(flags, JOB);
  for (;;) {
    Atomics.wait(flags, JOB, seen);
    if (Atomics.load(flags, STOP) !== 0) return;
    seen = Atomics.load(flags, JOB);
    const tag = tagOf(seen);
    // Parameters read now belong to this job if a chunk of it can still be claimed below (if the
    // job is over, or being rewritten, no claim succeeds and they are never used).
    const [channels, rows, chunkRows, blockRows] = [flags[CHANNELS], flags[ROWS], flags[CHUNK_ROWS], flags[BLOCK_ROWS]];
    const [rowMask, slotMask, countArg, kernelIndex] = [flags[ROW_ARGS], flags[SLOT_ARGS], flags[COUNT_ARG], flags[KERNEL]];
    const args = Array.from(flags.subarray(ARGS, ARGS + flags[ARG_COUNT]));
    const chunks = Math.ceil(rows / chunkRows);
    let kernel: ((...call: number[]) => void) | undefined;
    for (let chunk = claimChunk(flags, tag, chunks); chunk >= 0; chunk = claimChunk(flags, tag, chunks)) {
      try {
        kernel ??= rowKernel(compiled, ROW_KERNELS[kernelIndex], channels);
        runChunk(kernel, chunk, channels, rows, chunkRows, blockRows, rowMask, slotMask, countArg, args);
      } catch (error) {
        port.postMessage({ message: error instanceof Error ? error.message : String(error) });
        Atomics.store(flags, FAILED, 1);
      }
      Atomics.add(flags, CHUNKS_DONE, 1);
      Atomics.notify(flags, CHUNKS_DONE);
    }
  }
}

let compiled: CompiledKernels | undefined;
try {
  compiled = new CompiledKernels(memory);
} catch (error) {
  port.postMessage({ message: error instanceof Error ? error.message : String(error) });
  Atomics.store(flags, READY, -1);
}
if (compiled !== undefined) {
  Atomics.store(flags, READY, 1);
  serve(compiled);
}
