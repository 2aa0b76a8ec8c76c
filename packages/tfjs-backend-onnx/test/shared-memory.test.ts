/**
 * Shared memory and ONNX Runtime (README, Performance). onnxruntime-node's binding takes no typed
 * array over a SharedArrayBuffer, as a feed or as a preallocated output ("Invalid argument"), so
 * the runtime's binding route copies such arrays in and out; ORT's C API (the backend's default
 * way in, c-api.ts) reads and writes them in place, which lets the SIMD arena be shared with the
 * row thread (parallel/row-threads.ts). Skipped when onnxruntime-node (or, for the second, koffi)
 * cannot load.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { GraphSpec } from '../src/proto';
import { loadOrtRuntime, type OrtCalls, type OrtRuntime } from '../src/runtime';

function runtimeOrReason(calls: OrtCalls): OrtRuntime | string {
  try {
    return loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false }, calls);
  } catch (error) {
    return `unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const runtime = runtimeOrReason('binding');
const LENGTH = 64;
const reluGraph = (): GraphSpec => ({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  inputs: [{ name: 'x', type: 'float', shape: [LENGTH] }],
  outputs: [{ name: 'y', type: 'float', shape: [LENGTH] }],
});

/**
 * Relu through `ort` from and into typed arrays over one SharedArrayBuffer: the values land in the
 * array given for them, and a run with no array given for its output returns the same.
 */
function checkSharedRelu(ort: OrtRuntime): void {
  const shared = new SharedArrayBuffer(8 * LENGTH);
  const x = new Float32Array(shared, 0, LENGTH).map((_, i) => i - LENGTH / 2);
  const out = new Float32Array(shared, 4 * LENGTH, LENGTH).fill(Number.NaN);
  const [y] = ort.run('relu', reluGraph, [{ name: 'x', data: x, dims: [LENGTH] }], ['y'], false, [out]);
  assert.equal(y, out, 'the values are not in the array given for them');
  assert.deepEqual(Array.from(out), Array.from(x, (v) => Math.max(v, 0)));
  const [fresh] = ort.run('relu', reluGraph, [{ name: 'x', data: x, dims: [LENGTH] }], ['y']) as Float32Array[];
  assert.deepEqual(Array.from(fresh), Array.from(out));
  ort.dispose();
}

test('through the binding, typed arrays over shared memory go in and come back as copies, with the same values', { skip: typeof runtime === 'string' ? runtime : undefined }, () => {
  checkSharedRelu(runtime as OrtRuntime);
});

const cApiRuntime = runtimeOrReason('c-api');

test('through the C API, ORT reads and writes typed arrays over shared memory', { skip: typeof cApiRuntime === 'string' ? cApiRuntime : undefined }, () => {
  checkSharedRelu(cApiRuntime as OrtRuntime);
});
