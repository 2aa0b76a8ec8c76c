/**
 * A limit of onnxruntime-node that shapes the onnx backend (README, Performance): it takes no
 * typed array over a SharedArrayBuffer, as a feed or as a preallocated output. So the backend's
 * SIMD memory cannot be shared with its worker threads, and the background thread gets copies
 * of x and dy. If an upgrade of onnxruntime-node makes this test fail, shared memory has become
 * possible: revisit parallel/background.ts and the README's paragraph. Skipped when
 * onnxruntime-node cannot load.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { GraphSpec } from '../lib/backend/onnx/proto';
import { loadOrtRuntime, type OrtRuntime } from '../lib/backend/onnx/runtime';

function runtimeOrReason(): OrtRuntime | string {
  try {
    return loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false });
  } catch (error) {
    return `onnxruntime-node unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const runtime = runtimeOrReason();
const LENGTH = 64;
const reluGraph = (): GraphSpec => ({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  inputs: [{ name: 'x', type: 'float', shape: [LENGTH] }],
  outputs: [{ name: 'y', type: 'float', shape: [LENGTH] }],
});

test('onnxruntime-node rejects typed arrays over a SharedArrayBuffer, and takes the same values in ordinary memory', { skip: typeof runtime === 'string' ? runtime : undefined }, () => {
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
