/**
 * Loads Dawn's Node binding (the npm package `webgpu`) and makes it the `navigator.gpu` that
 * @tensorflow/tfjs-backend-webgpu expects. Also lets a synchronous read wait for the GPU: Dawn
 * resolves its promises from a callback it schedules with the global setImmediate (its
 * AsyncRunner calls wgpuInstanceProcessEvents there), so a read that must not return to the event
 * loop can run those callbacks itself until its buffer is mapped (see sync-read.ts).
 */
import * as os from 'node:os';
import { promisify } from 'node:util';
import type { Gpu } from './gpu-types';

interface DawnModule {
  create(flags: string[]): Gpu;
  /** GPUBufferUsage, GPUMapMode, GPUBuffer, ... which tfjs reads as globals */
  globals: Record<string, unknown>;
}

interface Scheduled {
  done: boolean;
  run: () => void;
}

/** Dawn's scheduled event processing that has not run yet. */
const dawnCallbacks: Scheduled[] = [];
let gpu: Gpu | undefined;

/**
 * The `navigator.gpu` of Dawn, created once; throws with the reason when the package is missing
 * or its binary does not load. Mesa's Vulkan drivers want XDG_RUNTIME_DIR: a temp folder stands in
 * when it is unset (a service or container often has none).
 */
export function dawnGpu(): Gpu {
  if (gpu !== undefined) return gpu;
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
  let dawn: DawnModule;
  try {
    dawn = loadDawnModule();
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(/Cannot find module 'webgpu'/.test(message)
      ? "the optional package 'webgpu' (Dawn's Node binding) is not installed"
      : `the package 'webgpu' (Dawn) failed to load: ${message}`);
  }
  captureDawnCallbacks();
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  gpu = dawn.create([]);
  return gpu;
}

/**
 * The package's entry point, an ES module that Node >= 20.19 loads with require(); on older
 * Nodes its addon directly (the entry point only adds a fix to GPUDevice.destroy, unused here).
 */
function loadDawnModule(): DawnModule {
  try {
    return require('webgpu') as DawnModule;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    return require(`webgpu/dist/${process.platform}-${arch}/dawn.node`) as DawnModule;
  }
}

/** Makes `gpu` the global navigator.gpu (Node 20 has no navigator; Node 21+ has one without gpu). */
export function exposeAsNavigatorGpu(value: Gpu): void {
  const scope = globalThis as { navigator?: object };
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: value }, configurable: true, writable: true });
  } else {
    Object.defineProperty(scope.navigator, 'gpu', { value, configurable: true });
  }
}

/**
 * Runs Dawn's scheduled event processing until `done()` holds, without returning to the event
 * loop. Throws when Dawn has nothing scheduled (nothing could ever complete) or after `timeoutMs`.
 */
export function processDawnEventsUntil(done: () => boolean, what: string, timeoutMs = 10 * 60_000): void {
  const started = Date.now();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let spins = 0; !done(); spins++) {
    const due = dawnCallbacks.splice(0);
    if (due.length === 0) throw new Error(`${what}: Dawn has no event processing scheduled, so it cannot complete`);
    for (const callback of due) callback.run();
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: the GPU did not finish within ${timeoutMs / 1000} s`);
    // after a burst of polls, give the GPU 50 µs between polls instead of a spinning core
    if (spins > 100) Atomics.wait(pause, 0, 0, 0.05);
  }
}

/**
 * Wraps the global setImmediate so that the callbacks Dawn's binding schedules (native functions
 * without a name: bound and JavaScript functions pass through untouched) are also kept in
 * `dawnCallbacks`; whichever runs first, the event loop or processDawnEventsUntil, runs them once.
 * Installed before Dawn's first asynchronous call, so every callback it schedules is seen.
 */
function captureDawnCallbacks(): void {
  const original = globalThis.setImmediate;
  const wrapped = function setImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate {
    if (callback.name !== '' || !Function.prototype.toString.call(callback).includes('[native code]')) {
      return original(callback, ...args);
    }
    const scheduled: Scheduled = {
      done: false,
      run: () => {
        if (scheduled.done) return;
        scheduled.done = true;
        callback(...args);
      },
    };
    // the event loop runs most of them: drop those now and then, so the list stays short
    if (dawnCallbacks.length >= 64) dawnCallbacks.splice(0, dawnCallbacks.length, ...dawnCallbacks.filter((c) => !c.done));
    dawnCallbacks.push(scheduled);
    return original(scheduled.run);
  };
  Object.defineProperty(wrapped, promisify.custom, { value: (original as unknown as Record<symbol, unknown>)[promisify.custom] });
  globalThis.setImmediate = wrapped as typeof globalThis.setImmediate;
}
