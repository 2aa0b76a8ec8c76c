/**
 * A helper thread of ChunkedSumRunner (helper-threads.ts): loads ONNX Runtime, then for each job
 * claims chunks from the shared counter and writes their outputs to the shared results buffer.
 */
import { receiveMessageOnPort, workerData } from 'worker_threads';
import { loadOrtRuntime, type OrtRuntime } from '../runtime';
import { runChunk, type ChunkedSumJob } from './chunked-sum';
import { CONTROL, doneIndex, RESULTS_SLOT, STOP_JOB, type FromHelper, type HelperStart, type ToHelper } from './helper-threads';

const { index, control, port } = workerData as HelperStart;
const flags = new Int32Array(control);
const done = doneIndex(index);

function report(value: number, error?: unknown): void {
  if (error !== undefined) {
    const message: FromHelper = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    port.postMessage(message);
  }
  Atomics.store(flags, done, value);
  Atomics.notify(flags, done);
}

function serve(runtime: OrtRuntime): void {
  const shared: SharedArrayBuffer[] = [];
  const graphs: ChunkedSumJob['graphs'] = {};
  let memory = new Float32Array(0);
  let seen = CONTROL.FIRST_JOB - 1;
  for (;;) {
    Atomics.wait(flags, CONTROL.JOB_NUMBER, seen);
    const jobNumber = Atomics.load(flags, CONTROL.JOB_NUMBER);
    if (jobNumber === STOP_JOB) return;
    if (jobNumber === seen) continue;
    seen = jobNumber;
    let job: ChunkedSumJob | undefined;
    try {
      let sourceLengths: number[] = [];
      // Messages posted before the job number was bumped are already queued on the port.
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        const message = received.message as ToHelper;
        if (message.kind === 'source') shared[message.slot] = message.buffer;
        else ({ job, sourceLengths } = message);
      }
      if (job === undefined) throw new Error(`job ${jobNumber} arrived without its description`);
      Object.assign(graphs, job.graphs);
      const fullJob: ChunkedSumJob = { ...job, graphs };
      const sources = sourceLengths.map((length, slot) => new Float32Array(shared[slot], 0, length));
      const results = new Float32Array(shared[RESULTS_SLOT], 0, job.chunks.length * job.outputSize);
      for (let c = Atomics.add(flags, CONTROL.NEXT_CHUNK, 1); c < job.chunks.length; c = Atomics.add(flags, CONTROL.NEXT_CHUNK, 1)) {
        memory = runChunk(runtime, fullJob, c, sources, results, memory);
      }
      report(jobNumber);
    } catch (error) {
      Atomics.store(flags, CONTROL.NEXT_CHUNK, job?.chunks.length ?? 0);
      report(jobNumber, error);
    }
  }
}

let runtime: OrtRuntime | undefined;
try {
  // Through the binding: the C API route serves the main thread, whose outputs are the large ones.
  runtime = loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false }, 'binding');
} catch (error) {
  report(-1, error);
}
if (runtime !== undefined) {
  report(1);
  serve(runtime);
  runtime.dispose();
}
