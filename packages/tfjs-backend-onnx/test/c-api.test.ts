/**
 * The two ways the onnx backend reaches ONNX Runtime (src/runtime.ts): its C API
 * through koffi, where ORT writes outputs into the caller's arrays, and onnxruntime-node's
 * binding. The same graphs give the same bits either way; errors name the problem either way; the
 * way in is chosen by TFJS_ONNX_ORT_CALLS. Skipped when onnxruntime-node or koffi cannot load.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { convGraph, type ConvGeometry } from '../src/conv-graphs';
import type { GraphSpec } from '../src/proto';
import { loadOrtRuntime, requestedCalls, type OrtRuntime } from '../src/runtime';
import { Rng } from './helpers/random';

function runtimeOrReason(): OrtRuntime | string {
  try {
    return loadOrtRuntime({ threads: 2, wideThreads: 2, spinning: false }, 'c-api');
  } catch (error) {
    return `the C API route is unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const runtime = runtimeOrReason();
const skip = typeof runtime === 'string' ? runtime : undefined;

function random(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.normal());
}

/** Runs one graph through both ways in and returns [C API outputs, binding outputs]. */
function bothWays(ort: OrtRuntime, run: (ort: OrtRuntime) => unknown[]): [unknown[], unknown[]] {
  ort.calls = 'c-api';
  const viaCApi = run(ort);
  ort.calls = 'binding';
  const viaBinding = run(ort);
  ort.calls = 'c-api';
  return [viaCApi, viaBinding];
}

test('a convolution gives the same bits through the C API as through the binding, written into the array given', { skip }, () => {
  const ort = runtime as OrtRuntime;
  const g: ConvGeometry = {
    batch: 3, inHeight: 9, inWidth: 7, inChannels: 5, outHeight: 5, outWidth: 4, outChannels: 6,
    filterHeight: 3, filterWidth: 3, strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1],
  };
  const spec = convGraph(g, 'plain', 0, {});
  const [xDims, wDims] = spec.inputs.map((i) => i.shape as number[]);
  const feeds = [
    { name: 'x', data: random(xDims.reduce((a, b) => a * b, 1), 1), dims: xDims },
    { name: 'w', data: random(wDims.reduce((a, b) => a * b, 1), 2), dims: wDims },
  ];
  const size = g.batch * g.outHeight * g.outWidth * g.outChannels;
  const targets = [new Float32Array(size).fill(Number.NaN), new Float32Array(size).fill(Number.NaN)];
  let call = 0;
  const [[viaCApi], [viaBinding]] = bothWays(ort, (o) => o.run('conv', () => spec, feeds, ['y'], true, [targets[call++]]));
  assert.equal(viaCApi, targets[0], 'the C API returns the very array it was given');
  assert.equal(viaBinding, targets[1]);
  assert.ok(targets[0].every(Number.isFinite), 'every element was written');
  assert.deepEqual(Array.from(targets[0]), Array.from(targets[1]));
});

test('outputs without a given array: new arrays of the graph\'s element type, and ORT-allocated ones when the shape is open', { skip }, () => {
  const ort = runtime as OrtRuntime;
  // y: fixed shape, float; n: int64 shape of x (fixed length); z: x's flattened values, length left open
  const spec: GraphSpec = {
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['y'] },
      { op: 'Shape', inputs: ['x'], outputs: ['n'] },
      { op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: 0 } },
      { op: 'Squeeze', inputs: ['f', 'zero'], outputs: ['z'] },
    ],
    inputs: [{ name: 'x', type: 'float', shape: [2, 3] }],
    outputs: [
      { name: 'y', type: 'float', shape: [2, 3] },
      { name: 'n', type: 'int64', shape: [2] },
      { name: 'z', type: 'float', shape: ['length'] },
    ],
    consts: [{ name: 'zero', type: 'int64', shape: [1], values: [0] }],
  };
  const x = Float32Array.from([-1, 2, -3, 4, -5, 6]);
  const [viaCApi, viaBinding] = bothWays(ort, (o) => o.run('mixed', () => spec, [{ name: 'x', data: x, dims: [2, 3] }], ['y', 'n', 'z']));
  for (const outputs of [viaCApi, viaBinding]) {
    assert.deepEqual(Array.from(outputs[0] as Float32Array), [0, 2, 0, 4, 0, 6]);
    assert.ok(outputs[1] instanceof BigInt64Array);
    assert.deepEqual(Array.from(outputs[1] as BigInt64Array), [2n, 3n]);
    assert.ok(outputs[2] instanceof Float32Array);
    assert.deepEqual(Array.from(outputs[2] as Float32Array), Array.from(x));
  }
});

test('a run that fails throws an Error with ORT\'s message through the C API, and the session still runs after it', { skip }, () => {
  const ort = runtime as OrtRuntime;
  ort.calls = 'c-api';
  const spec: GraphSpec = {
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: 'float', shape: [4] }],
    outputs: [{ name: 'y', type: 'float', shape: [4] }],
  };
  assert.throws(() => ort.run('relu4', () => spec, [{ name: 'x', data: new Float32Array(3), dims: [3] }], ['y']), /onnxruntime Run: .*(dimension|shape|Got)/i);
  assert.throws(() => ort.run('relu4', () => spec, [{ name: 'x', data: new Float32Array(4), dims: [4] }], ['y'], false, [new Float32Array(5)]), /has 4 elements; the array given for it has 5/);
  const [y] = ort.run('relu4', () => spec, [{ name: 'x', data: Float32Array.from([-1, 1, -2, 2]), dims: [4] }], ['y']);
  assert.deepEqual(Array.from(y as Float32Array), [0, 1, 0, 2]);
});

test('TFJS_ONNX_ORT_CALLS chooses the way in and rejects anything else with the choices', () => {
  assert.equal(requestedCalls({}), undefined);
  assert.equal(requestedCalls({ TFJS_ONNX_ORT_CALLS: '' }), undefined);
  assert.equal(requestedCalls({ TFJS_ONNX_ORT_CALLS: 'binding' }), 'binding');
  assert.equal(requestedCalls({ TFJS_ONNX_ORT_CALLS: 'c-api' }), 'c-api');
  assert.throws(() => requestedCalls({ TFJS_ONNX_ORT_CALLS: 'ffi' }), /TFJS_ONNX_ORT_CALLS=ffi: give c-api .* or binding/);
});

test('a runtime loaded for the binding cannot be switched to the C API, and says why', { skip }, () => {
  const ort = loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false }, 'binding');
  assert.equal(ort.calls, 'binding');
  assert.throws(() => { ort.calls = 'c-api'; }, /C API is not available here: this runtime was loaded for the binding only/);
  ort.dispose();
});
