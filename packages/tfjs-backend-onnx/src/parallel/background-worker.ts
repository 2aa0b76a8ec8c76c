/**
 * The background thread of BackgroundRunner (background.ts): loads ONNX Runtime (one intra-op
 * thread: the main thread's kernels use the other cores) and compiles the SIMD kernels over the
 * main thread's shared arena, then runs the jobs in the order they were submitted, in place.
 */
import { receiveMessageOnPort, workerData } from 'worker_threads';
import { computeFilterGradByConv } from '../kernels/filter-grad-by-conv';
import { loadOrtRuntime, type OrtRuntime } from '../runtime';
import { ArenaView } from '../simd/arena';
import { DONE, READY, STOP, SUBMITTED, type BackgroundStart, type FilterGradJob, type FromBackground } from './background';

const { control, port, memory } = workerData as BackgroundStart;
const flags = new Int32Array(control);

function run(runtime: OrtRuntime, arena: ArenaView, job: FilterGradJob): void {
  const at = ({ offset, length }: { offset: number; length: number }) => arena.floats(offset, length);
  computeFilterGradByConv(runtime, arena, { xb: at(job.xb), wb: at(job.wb) }, job.g, job.block, at(job.x), at(job.dy), at(job.dw));
}

function serve(runtime: OrtRuntime, arena: ArenaView): void {
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
        run(runtime, arena, job);
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
let arena: ArenaView | undefined;
try {
  // ORT's C API reads and writes the shared arena in place (through the binding, shared arrays
  // would be copied in and out).
  runtime = loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false });
  arena = new ArenaView(memory);
} catch (error) {
  const message: FromBackground = { kind: 'error', id: 0, message: error instanceof Error ? error.message : String(error) };
  port.postMessage(message);
  Atomics.store(flags, READY, -1);
  Atomics.notify(flags, READY);
}
if (runtime !== undefined && arena !== undefined) {
  Atomics.store(flags, READY, 1);
  Atomics.notify(flags, READY);
  serve(runtime, arena);
  runtime.dispose();
}
