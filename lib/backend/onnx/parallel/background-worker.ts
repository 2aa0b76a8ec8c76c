/**
 * The background thread of BackgroundRunner (background.ts): loads ONNX Runtime (one intra-op
 * thread: the main thread's kernels use the other cores) and a SIMD arena of its own, then runs
 * the jobs in the order they were submitted.
 */
import { receiveMessageOnPort, workerData } from 'worker_threads';
import { BufferPool } from '../buffer-pool';
import { computeFilterGradByConv } from '../kernels/filter-grad-by-conv';
import { loadOrtRuntime, type OrtRuntime } from '../runtime';
import { WasmArena } from '../simd/arena';
import { DONE, READY, STOP, SUBMITTED, type BackgroundStart, type FilterGradJob, type FromBackground } from './background';

const { control, port, arenaMegabytes } = workerData as BackgroundStart;
const flags = new Int32Array(control);

function run(runtime: OrtRuntime, pool: BufferPool, job: FilterGradJob): void {
  // x and dy into this thread's own memory: the SIMD layouts need them in the arena, and ORT
  // takes no shared memory.
  const x = pool.take(job.xLength);
  const dy = pool.take(job.dyLength);
  try {
    x.set(new Float32Array(job.buffer, 0, job.xLength));
    dy.set(new Float32Array(job.buffer, 4 * job.xLength, job.dyLength));
    const dw = new Float32Array(job.buffer, 4 * (job.xLength + job.dyLength), job.dwLength);
    computeFilterGradByConv(runtime, pool.arena, pool, job.g, job.block, x, dy, dw);
  } finally {
    pool.recycle(x);
    pool.recycle(dy);
  }
}

function serve(runtime: OrtRuntime, pool: BufferPool): void {
  let processed = 0;
  const queue: FilterGradJob[] = [];
  for (;;) {
    Atomics.wait(flags, SUBMITTED, processed);
    if (Atomics.load(flags, STOP) !== 0) return;
    // Jobs are posted before their number is published, so they are already on the port.
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      queue.push(received.message as FilterGradJob);
    }
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      try {
        run(runtime, pool, job);
      } catch (error) {
        const message: FromBackground = { kind: 'error', id: job.id, message: error instanceof Error ? error.message : String(error) };
        port.postMessage(message);
      }
      processed = job.id;
      Atomics.store(flags, DONE, processed);
      Atomics.notify(flags, DONE);
    }
  }
}

let runtime: OrtRuntime | undefined;
let pool: BufferPool | undefined;
try {
  // Through the binding: the C API route serves the main thread, whose outputs are the large ones.
  runtime = loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false }, 'binding');
  let arena: WasmArena | undefined;
  try {
    arena = arenaMegabytes > 0 ? new WasmArena(arenaMegabytes * 2 ** 20) : undefined;
  } catch {
    arena = undefined; // no WebAssembly SIMD or address space: the layouts' plain loops
  }
  pool = new BufferPool(arena, 256 * 2 ** 20);
} catch (error) {
  const message: FromBackground = { kind: 'error', id: 0, message: error instanceof Error ? error.message : String(error) };
  port.postMessage(message);
  Atomics.store(flags, READY, -1);
  Atomics.notify(flags, READY);
}
if (runtime !== undefined && pool !== undefined) {
  Atomics.store(flags, READY, 1);
  Atomics.notify(flags, READY);
  serve(runtime, pool);
  runtime.dispose();
}
