/**
 * Starting the backend's worker threads (helper-threads.ts, background.ts): a TypeScript worker
 * with a MessagePort of its own, and a synchronous wait for the flag it sets once it has loaded
 * ONNX Runtime (1) or failed to (-1, with the reason posted on its port).
 */
import * as path from 'path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'worker_threads';

/** How long the main thread waits for a worker to load ORT before going on without it. */
export const START_TIMEOUT_MS = 60_000;

/**
 * Starts `script` (a file next to this one) with `workerData` plus `port`, the worker's end of a
 * new channel; returns the worker and this thread's end.
 */
export function startWorker(script: string, workerData: object, describe: string): { worker: Worker; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(path.join(__dirname, script), {
    workerData: { ...workerData, port: port2 },
    transferList: [port2],
    // The library is TypeScript run through tsx; a worker needs the hook too.
    execArgv: ['--require', require.resolve('tsx/cjs')],
  });
  worker.unref();
  // The worker reports its own errors through the port; this catches one that escapes it (it
  // would otherwise end this process too).
  worker.on('error', (error) => console.warn(`onnx backend: ${describe} failed: ${error.message}`));
  return { worker, port: port1 };
}

/**
 * Waits until flags[index] is no longer 0, at the latest until `deadline` (ms since the epoch);
 * throws with the worker's reason if it set -1 or with a timeout message.
 */
export function waitUntilStarted(flags: Int32Array, index: number, port: MessagePort, deadline: number): void {
  while (Atomics.load(flags, index) === 0) {
    if (Atomics.wait(flags, index, 0, Math.max(1, deadline - Date.now())) === 'timed-out' && Date.now() >= deadline) {
      throw new Error(`it did not start within ${START_TIMEOUT_MS / 1000} s`);
    }
  }
  if (Atomics.load(flags, index) < 0) {
    const reply = receiveMessageOnPort(port)?.message as { message?: string } | undefined;
    throw new Error(reply?.message ?? 'it failed to start');
  }
}
