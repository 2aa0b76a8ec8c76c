/**
 * A limit of onnxruntime-node's binding that shaped the onnx backend (README, Performance): it
 * takes no typed array over a SharedArrayBuffer, as a feed or as a preallocated output, so the
 * background thread gets copies of x and dy. ORT's C API (the backend's default way in, c-api.ts)
 * has no such limit: the second test shows it, for whoever moves the backend's memory into a
 * shared arena. If an upgrade of onnxruntime-node makes the first test fail, the binding has
 * lifted the limit too. Skipped when onnxruntime-node (or, for the second, koffi) cannot load.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { GraphSpec } from '../lib/backend/onnx/proto';
import { loadOrtRuntime, type OrtCalls, type OrtRuntime } from '../lib/backend/onnx/runtime';

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

test('onnxruntime-node\'s binding rejects typed arrays over a SharedArrayBuffer, and takes the same values in ordinary memory', { skip: typeof runtime === 'string' ? runtime : undefined }, () => {
  const ort = runtime as OrtRuntime;
  const shared = new SharedArrayBuffer(8 * LENGTH);
  const x = new Float32Array(shared, 0, LENGTH).fill(-1.5);
  const out = new Float32Array(shared, 4 * LENGTH, LENGTH);
  assert.throws(() => ort.run('relu', reluGraph, [{ name: 'x', data: x, dims: [LENGTH] }], ['y']), /Invalid argument/);
  assert.throws(() => ort.run('relu', reluGraph, [{ name: 'x', data: new Float32Array(LENGTH), dims: [LENGTH] }], ['y'], false, [out]), /Invalid argument/);
  // the same run with ordinary memory works: the failure above is the shared memory's
  const [y] = ort.run('relu', reluGraph, [{ name: 'x', data: Float32Array.from(x), dims: [LENGTH] }], ['y']) as Float32Array[];
  assert.deepEqual(Array.from(y), new Array<number>(LENGTH).fill(0));
  ort.dispose();
});

const cApiRuntime = runtimeOrReason('c-api');

test('through the C API, ORT reads and writes typed arrays over shared memory', { skip: typeof cApiRuntime === 'string' ? cApiRuntime : undefined }, () => {
  const ort = cApiRuntime as OrtRuntime;
  const shared = new SharedArrayBuffer(8 * LENGTH);
  const x = new Float32Array(shared, 0, LENGTH).map((_, i) => i - LENGTH / 2);
  const out = new Float32Array(shared, 4 * LENGTH, LENGTH).fill(Number.NaN);
  const [y] = ort.run('relu', reluGraph, [{ name: 'x', data: x, dims: [LENGTH] }], ['y'], false, [out]);
  assert.equal(y, out);
  assert.deepEqual(Array.from(out), Array.from(x, (v) => Math.max(v, 0)));
  ort.dispose();
});
