/**
 * The 'onnx' backend against the cpu backend: every kernel it implements, values
 * and gradients, agree to 1e-4 of the largest cpu value, on awkward shapes that reach every code
 * path (NCHWc blocked / NCHW / plain convolution routes, strided input gradients, SIMD tails,
 * broadcast patterns); so do a conv-bn-relu residual network's loss and gradients. A second
 * registration with a 2 MiB arena runs the same checks where most tensors fall outside the
 * WebAssembly memory (the plain JavaScript loops). Skipped when onnxruntime-node cannot load.
 */
import * as assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedBatchNormTrain, hasFusedBatchNorm } from '../src/ops/fused-batch-norm';
import type { OnnxBackend } from '../src/backend';
import type { ConvGeometry } from '../src/conv-graphs';
import { registerOnnxBackend, registerOnnxBackendAs } from '../src/register';
import { Rng } from './helpers/random';
import { onnxUnavailableReason } from '../src/availability';

/** max |onnx − cpu| allowed, as a fraction of max |cpu| */
const TOLERANCE = 1e-4;
/** a variant whose arena holds almost nothing: the element-wise kernels' JavaScript fallbacks */
const SMALL_ARENA = 'onnx-small-arena';
/** a variant with the filter gradient as per-tap matrix products (the route where NCHWc is missing) */
const TAP_PRODUCTS = 'onnx-tap-products';
/** a variant that computes every filter gradient on the main thread (the default hands some to a background thread) */
const NO_BACKGROUND = 'onnx-no-background';

/** variants whose batch norm shares its row passes with a row thread, and never does */
const ROW_THREAD = 'onnx-row-thread';
const NO_ROW_THREAD = 'onnx-no-row-thread';

/** a variant whose strided input gradients compute every phase in one convolution (the default goes phase by phase) */
const POLYPHASE = 'onnx-polyphase';

const skip = onnxUnavailableReason(() => {
  registerOnnxBackend({ threads: 2, poisonBuffers: true });
  registerOnnxBackendAs(POLYPHASE, { threads: 2, stridedInputGradient: 'polyphase', poisonBuffers: true });
  registerOnnxBackendAs(SMALL_ARENA, { threads: 1, arenaMegabytes: 2, poisonBuffers: true });
  registerOnnxBackendAs(TAP_PRODUCTS, { filterGradient: 'tap-products', poisonBuffers: true });
  registerOnnxBackendAs(NO_BACKGROUND, { threads: 2, backgroundThread: false, poisonBuffers: true });
  registerOnnxBackendAs(ROW_THREAD, { threads: 2, rowThread: true, poisonBuffers: true });
  registerOnnxBackendAs(NO_ROW_THREAD, { threads: 2, rowThread: false, poisonBuffers: true });
});

/**
 * Selects the onnx backend registered as `name` and returns it; undefined, with `t` skipped, where
 * ORT is not reached through its C API: there the arena is not shared memory, so the backend has
 * neither a row thread nor a background thread (`what` says which the test needs).
 */
async function onnxBackendWithCApi(t: TestContext, name: string, what: string): Promise<OnnxBackend | undefined> {
  await tf.setBackend(name);
  const backend = tf.backend() as OnnxBackend;
  if (backend.ort.calls === 'c-api') return backend;
  t.skip(`no ${what} without ONNX Runtime's C API: ${backend.ort.cApiUnavailable ?? ''}`);
  return undefined;
}

interface Input {
  shape: number[];
  values: Float32Array;
}

/** Seeded standard normal inputs; `round` gives small integers (ties for max pooling). */
function randomInputs(seed: number, shapes: number[][], round = false): Input[] {
  const rng = new Rng(seed);
  return shapes.map((shape) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = round ? Math.round(rng.normal()) : rng.normal();
    return { shape, values };
  });
}

/**
 * y = f(xs) and the gradients of sum(y * r) for a fixed random r (so dy is not uniform), on
 * `backend`: [y, dx1, dx2, ...].
 */
async function outputAndGrads(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[], grads: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(() => {
    const xs = inputs.map((input) => tf.tensor(input.values, input.shape));
    const y = f(...xs);
    if (!grads) return [y];
    const [r] = randomInputs(99, [y.shape]);
    const weights = tf.tensor(r.values, r.shape);
    const dxs = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), weights)))(xs);
    return [y, ...dxs];
  });
  const arrays = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outputs);
  return arrays;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) {
      if (!Number.isNaN(actual[i])) worst = Infinity;
      continue;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(scale > 0, `${what}: the cpu result is all zeros, the test checks nothing`);
  assert.ok(worst <= TOLERANCE * scale, `${what}: max |onnx - cpu| = ${worst} > ${TOLERANCE} x ${scale}`);
}

/** Runs f on cpu and on the onnx variants and compares outputs (and gradients). */
async function compareWithCpu(what: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[], grads = true, variants = ['onnx', SMALL_ARENA]): Promise<void> {
  const expected = await outputAndGrads('cpu', f, inputs, grads);
  for (const backend of variants) {
    const actual = await outputAndGrads(backend, f, inputs, grads);
    expected.forEach((e, i) => assertClose(actual[i], e, `${what} on ${backend}, ${i === 0 ? 'output' : `gradient ${i}`}`));
  }
}

describe('onnx backend kernels match the cpu backend', { skip }, () => {
  test('conv2d, its input gradient and filter gradient, on every route', async () => {
    // [x shape, filter shape, stride, pad]: RGB (NCHW route), one block of 16 (no reorder),
    // 20 and 32 channels (blocked, padded), 17 (plain ONNX Conv), 5 output channels (padded).
    // The filter gradient as a convolution over the batch takes its SIMD layouts for whole blocks
    // of images (batches 40 and 70) and plain loops for the rest and on the small arena; the
    // per-tap products variant checks the other route.
    const cases: Array<[number[], number[], number, 'same' | 'valid' | number]> = [
      [[2, 5, 7, 3], [3, 3, 3, 5], 1, 'same'],
      [[1, 5, 7, 3], [3, 3, 3, 16], 2, 'valid'],
      [[2, 8, 8, 16], [3, 3, 16, 16], 1, 1],
      [[2, 8, 8, 16], [3, 3, 16, 32], 2, 1],
      [[2, 9, 9, 16], [3, 3, 16, 16], 2, 'valid'],
      [[2, 8, 8, 16], [1, 1, 16, 32], 2, 0],
      [[2, 7, 5, 16], [1, 1, 16, 8], 2, 'same'],
      [[1, 7, 5, 20], [3, 3, 20, 5], 2, 'same'],
      [[2, 6, 6, 32], [3, 3, 32, 16], 1, 'same'],
      [[2, 6, 6, 17], [3, 3, 17, 4], 1, 'valid'],
      [[3, 7, 5, 5], [1, 1, 5, 3], 1, 'same'],
      // large enough for the stride-1 filter gradient's padded windows, in 4 chunks of images (12, 12, 12, 4)
      [[40, 24, 24, 16], [3, 3, 16, 16], 1, 'same'],
      // strided filter gradients on row phases and column groups: odd sizes, explicit padding, a
      // 5x5 filter (a third column group with one column dropped), an even 4x4 filter, stride 3,
      // and one in 3 chunks of images
      [[6, 15, 13, 16], [3, 3, 16, 24], 2, 'same'],
      [[5, 16, 16, 8], [3, 3, 8, 16], 2, 1],
      [[4, 14, 14, 4], [5, 5, 4, 8], 2, 'same'],
      [[3, 13, 11, 6], [4, 4, 6, 5], 2, 'valid'],
      [[2, 15, 15, 4], [3, 3, 4, 4], 3, 'same'],
      [[70, 16, 16, 16], [3, 3, 16, 32], 2, 'same'],
      // input gradients of stride 2 spread from their phases in SIMD (large enough for the arena):
      // the 1x1 shortcut and a 3x3 filter, each once with the image a whole number of phase rows
      // tall and once cropped (15 rows)
      [[64, 16, 16, 16], [1, 1, 16, 32], 2, 0],
      [[40, 15, 16, 8], [1, 1, 8, 12], 2, 'same'],
      [[30, 15, 16, 8], [3, 3, 8, 16], 2, 'same'],
    ];
    for (const [xShape, wShape, stride, pad] of cases) {
      await compareWithCpu(
        `conv2d x${xShape} w${wShape} stride ${stride} pad ${pad}`,
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
        randomInputs(1, [xShape, wShape]),
        true,
        ['onnx', SMALL_ARENA, TAP_PRODUCTS],
      );
    }
  });

  test('fused conv2d with bias and each activation', async () => {
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
      for (const channels of [16, 6]) {
        const inputs = randomInputs(2, [[2, 6, 5, 8], [3, 3, 8, channels], [channels], [channels]]);
        await compareWithCpu(
          `fused conv2d ${activation} to ${channels} channels`,
          (x, w, bias, slopes) =>
            tf.fused.conv2d({
              x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias, activation,
              preluActivationWeights: activation === 'prelu' ? slopes : undefined, leakyreluAlpha: 0.3,
            }),
          inputs,
          false,
        );
      }
    }
  });

  test('matMul, batched and transposed, and fused matMul', async () => {
    await compareWithCpu('matMul', (a, b) => tf.matMul(a, b), randomInputs(3, [[40, 30], [30, 50]]));
    await compareWithCpu('matMul transposed', (a, b) => tf.matMul(a, b, true, true), randomInputs(4, [[30, 40], [50, 30]]));
    await compareWithCpu('batched matMul', (a, b) => tf.matMul(a, b, false, true), randomInputs(5, [[3, 20, 30], [3, 40, 30]]));
    for (const activation of ['linear', 'relu', 'elu', 'prelu'] as const) {
      await compareWithCpu(
        `fused matMul ${activation}`,
        (a, b, bias, slopes) =>
          tf.fused.matMul({ a, b, bias, activation, preluActivationWeights: activation === 'prelu' ? slopes : undefined }),
        randomInputs(6, [[40, 30], [30, 50], [50], [50]]),
        false,
      );
    }
  });

  test('binary element-wise ops on every broadcast pattern', async () => {
    // 4641 elements (not a multiple of 4: the SIMD tail) and 17 channels.
    const big = [3, 7, 13, 17];
    // [3, 7, 1, 1]: one number per run of 221 (SIMD scalar passes); [3, 7, 13, 1]: runs of 17 (block kernel).
    const partners = [big, [17], [1, 1, 1, 17], [3, 1, 1, 17], [], [7, 1, 17], [3, 7, 1, 1], [3, 7, 13, 1]];
    const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
      ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['squaredDifference', tf.squaredDifference],
    ];
    for (const partner of partners) {
      for (const [name, op] of ops) {
        // Divisors are kept away from zero: the gradient of a / b grows like 1 / b^2.
        const [a, b] = randomInputs(7, [big, partner]);
        const away = (input: Input) => ({ ...input, values: input.values.map((v) => (v >= 0 ? v + 1 : v - 1)) });
        // tfjs's gradient of squaredDifference does not sum over broadcast axes (on any backend).
        const grads = name !== 'squaredDifference' || partner === big;
        await compareWithCpu(`${name} ${big} with ${partner}`, op, [a, away(b)], grads);
        await compareWithCpu(`${name} ${partner} with ${big}`, op, [b, away(a)], grads);
      }
    }
  });

  test('unary ops, including NaN, and fills', async () => {
    const [x] = randomInputs(8, [[3, 7, 13, 17]], true); // integers: many exact zeros for relu and step
    x.values[5] = NaN;
    for (const [name, op] of [['relu', tf.relu], ['square', tf.square], ['neg', tf.neg], ['exp', tf.exp]] as const) {
      await compareWithCpu(name, op, [x], false);
    }
    await compareWithCpu('step', (t) => tf.step(t), [x], false);
    await compareWithCpu('step alpha', (t) => tf.step(t, 0.25), [x], false);
    await compareWithCpu('clipByValue', (t) => tf.clipByValue(t, -2, 3), [x], false);
    const [y] = randomInputs(9, [[3, 7, 13, 17]]);
    await compareWithCpu('relu gradient', (t) => tf.relu(t), [y]);
    await compareWithCpu('ones and fill', (t) => tf.add(tf.mul(t, tf.ones(t.shape)), tf.fill(t.shape, 0.5)), [y]);
  });

  test('sum and mean over leading, trailing and inner axes', async () => {
    const [x] = randomInputs(10, [[6, 9, 10, 11]]);
    const axesList: Array<number | number[]> = [[0, 1, 2], 3, -1, [1, 3], [0, 1, 2, 3], [2, 3], 0];
    for (const axes of axesList) {
      for (const keepDims of [false, true]) {
        await compareWithCpu(`sum ${axes} keepDims ${keepDims}`, (t) => tf.sum(t, axes, keepDims), [x]);
        await compareWithCpu(`mean ${axes} keepDims ${keepDims}`, (t) => tf.mean(t, axes, keepDims), [x]);
      }
    }
  });

  test('batch norm with and without scale and offset', async () => {
    const inputs = randomInputs(11, [[4, 6, 9, 24], [24], [24], [24], [24]]);
    inputs[2].values = inputs[2].values.map((v) => v * v + 0.1); // variance > 0
    await compareWithCpu(
      'batchNorm',
      (x, mean, variance, offset, scale) => tf.batchNorm(x, mean, variance, offset, scale, 1e-3),
      inputs,
      false,
    );
    await compareWithCpu('batchNorm without scale and offset', (x, mean, variance) => tf.batchNorm(x, mean, variance), inputs.slice(0, 3), false);
  });

  test('fused training batch norm (+ ReLU): output and gradients match the composed ops', async () => {
    // Composed tf ops where the backend has no fused kernel (cpu), the fused op where it has (onnx).
    const trainingBatchNorm = (relu: boolean) => (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      if (hasFusedBatchNorm()) {
        const { y, mean, variance } = fusedBatchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, { epsilon: 1e-5, relu });
        tf.dispose([mean, variance]);
        return y;
      }
      const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
      const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
      return relu ? tf.relu(y) : y;
    };
    // 4-D with a SIMD tail (19 channels) large enough for the arena, 4-D small (JavaScript loops),
    // 2-D as in the projection head; inputs offset from zero so the shifted sums are exercised.
    for (const shape of [[8, 16, 16, 19], [2, 3, 5, 4], [40, 24]]) {
      const channels = shape[shape.length - 1];
      const inputs = randomInputs(15, [shape, [channels], [channels]]);
      inputs[0].values = inputs[0].values.map((v, i) => 3 * v + 5 + (i % channels));
      inputs[1].values = inputs[1].values.map((v) => v + 1.5);
      for (const relu of [false, true]) {
        await compareWithCpu(`training batch norm ${shape}${relu ? ' + relu' : ''}`, trainingBatchNorm(relu), inputs);
      }
    }
  });

  test('max pooling and its gradient, with ties', async () => {
    const cases: Array<[number[], number, number, 'same' | 'valid']> = [
      [[2, 8, 8, 16], 2, 2, 'valid'],
      [[2, 9, 7, 6], 3, 2, 'same'],
      [[1, 6, 6, 3], 2, 1, 'valid'],
    ];
    for (const [shape, size, stride, pad] of cases) {
      await compareWithCpu(
        `maxPool ${shape} size ${size} stride ${stride} ${pad}`,
        (x) => tf.maxPool(x as tf.Tensor4D, size, stride, pad),
        randomInputs(12, [shape], true),
      );
    }
  });

  test('crop-and-resize, pad and tile give the cpu kernels\' results bit for bit', async () => {
    const [image] = randomInputs(13, [[3, 9, 11, 3]]);
    // Boxes inside, reaching outside (extrapolation), mirrored (x1 > x2), one pixel tall (the
    // single-row formula), and image indices out of order.
    const boxes = [0.1, 0.2, 0.9, 0.7, -0.3, 1.2, 1.4, -0.1, 0.25, 0.5, 0.25, 0.9, 0, 0, 1, 1];
    const boxIndices = [2, 0, 1, 2];
    const bitwise = async (what: string, f: () => tf.Tensor) => {
      const results: Float32Array[] = [];
      for (const backend of ['cpu', 'onnx', SMALL_ARENA]) {
        await tf.setBackend(backend);
        results.push(tf.tidy(f).dataSync() as Float32Array);
      }
      for (const actual of results.slice(1)) assert.deepEqual(Array.from(actual), Array.from(results[0]), what);
    };
    for (const [size, extrapolation] of [[[7, 5], 0], [[1, 6], 0.5], [[4, 1], -2]] as Array<[[number, number], number]>) {
      await bitwise(`cropAndResize to ${size}`, () => tf.image.cropAndResize(
        tf.tensor4d(image.values, [3, 9, 11, 3]), tf.tensor2d(boxes, [4, 4]), tf.tensor1d(boxIndices, 'int32'), size, 'bilinear', extrapolation));
    }
    for (const [shape, paddings, value] of [
      [[4, 6], [[3, 1], [0, 2]], 0],
      [[2, 3, 4, 5], [[0, 0], [1, 2], [0, 0], [2, 1]], -1.5],
      [[7], [[2, 3]], 0.25],
    ] as Array<[number[], Array<[number, number]>, number]>) {
      const [x] = randomInputs(14, [shape]);
      await bitwise(`pad ${shape} by ${paddings}`, () => tf.pad(tf.tensor(x.values, x.shape), paddings, value));
    }
    // Outputs above MIN_LARGE_ELEMENTS (smaller ones stay on the cpu kernel): the encoder's pool
    // gradient [B, 1, 1, C] -> [B, H, W, C], repeats on every axis, and a 1-D row.
    for (const [shape, reps] of [
      [[6, 1, 1, 13], [1, 8, 7, 1]],
      [[2, 3, 1, 4], [3, 1, 50, 2]],
      [[37], [200]],
    ] as Array<[number[], number[]]>) {
      const [x] = randomInputs(16, [shape]);
      await bitwise(`tile ${shape} by ${reps}`, () => tf.tile(tf.tensor(x.values, x.shape), reps));
    }
    const [embeddings] = randomInputs(15, [[8, 6]]);
    await compareWithCpu('slice (its gradient pads)', (z) => tf.mul(z.slice([2, 0], [3, -1]), z.slice([5, 1], [3, 4]).sum()), [embeddings]);
  });
});

test('strided input gradients phase by phase are the polyphase route\'s bit for bit', { skip }, async () => {
  await tf.setBackend('onnx');
  const backend = tf.backend() as OnnxBackend;
  const layout = backend.arena?.kernels.layout;
  assert.ok(layout !== undefined, 'the onnx backend has its SIMD arena');
  const scatter = layout.scatterRuns;
  let scattered = 0;
  layout.scatterRuns = (...args) => {
    scattered++;
    scatter(...args);
  };
  // the phases of one input gradient run in one graph where dy takes the blocked route (counted
  // while phasesInOneGraph is on, its default)
  const runGraph = backend.runGraph.bind(backend);
  let sharedRuns = 0;
  backend.runGraph = (key, ...rest) => {
    if (key.startsWith('phase-convs|')) sharedRuns++;
    return runGraph(key, ...rest);
  };
  try {
    // [x shape, filter shape, pad, scattered in SIMD]: padding 1 (phase (0, 0) has a single tap,
    // run as 1x2 with a zero tap), TF's 'same' (the single tap at phase (1, 1)), more than one
    // block of channels, a 4x4 filter (2x2 taps everywhere); phases too small for the arena
    // (scattered by the JavaScript loop); fewer output channels than a block (each phase its own
    // graph, dy not blocked); and two left to the polyphase route: an odd size (the phases do not
    // tile the image) and the 1x1 shortcut (phases without taps).
    const cases: Array<[number[], number[], 'same' | number, boolean]> = [
      [[16, 16, 16, 16], [3, 3, 16, 32], 1, true],
      [[16, 16, 16, 16], [3, 3, 16, 32], 'same', true],
      [[8, 16, 16, 32], [3, 3, 32, 64], 1, true],
      [[48, 12, 12, 8], [4, 4, 8, 16], 1, true],
      [[2, 8, 8, 16], [3, 3, 16, 16], 1, false],
      [[16, 16, 16, 16], [3, 3, 16, 4], 1, true],
      [[8, 15, 15, 16], [3, 3, 16, 32], 'same', false],
      [[16, 16, 16, 16], [1, 1, 16, 32], 0, false],
    ];
    for (const [xShape, wShape, pad, phased] of cases) {
      const what = `x${xShape} w${wShape} pad ${pad}`;
      const inputs = randomInputs(5, [xShape, wShape]);
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, pad);
      const [before, sharedBefore] = [scattered, sharedRuns];
      const [, dx] = await outputAndGrads('onnx', f, inputs, true);
      assert.equal(scattered > before, phased, `${what}: ${phased ? 'not' : 'unexpectedly'} scattered in SIMD`);
      const [co, size] = [wShape[3], xShape[1]];
      const shared = co >= backend.nchwcBlock && co % 4 === 0 && size % 2 === 0 && wShape[0] > 1;
      assert.equal(sharedRuns - sharedBefore, shared ? 1 : 0, `${what}: the phases ${shared ? 'not' : 'unexpectedly'} in one graph`);
      const sharedAfter = sharedRuns;
      const [, expected] = await outputAndGrads(POLYPHASE, f, inputs, true);
      const bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);
      assert.deepEqual(bits(dx), bits(expected), `${what}: the input gradients differ`);
      backend.phasesInOneGraph = false;
      try {
        const [, separate] = await outputAndGrads('onnx', f, inputs, true);
        assert.deepEqual(bits(separate), bits(expected), `${what}: the input gradients differ with each phase in its own graph`);
        assert.equal(sharedRuns, sharedAfter, `${what}: the phases in one graph with phasesInOneGraph off`);
      } finally {
        backend.phasesInOneGraph = true;
      }
      assert.ok(expected.some((v) => v !== 0) && !dx.some(Number.isNaN), `${what}: degenerate, or a pixel was not written`);
    }
  } finally {
    layout.scatterRuns = scatter;
    backend.runGraph = runGraph;
  }
});

test('filter gradients from the background thread are the main thread\'s bit for bit, and arrive before any read', { skip }, async (t) => {
  const backend = await onnxBackendWithCApi(t, 'onnx', 'background thread');
  if (backend === undefined) return;
  const background = backend.background;
  assert.ok(background !== undefined, 'the 2-thread onnx backend has a background thread');
  // Three layers in one backward pass: the first filter gradient goes to the idle thread, the
  // others run on the main thread while it works (or go to it once it is idle again).
  const [x, w1, w2, w3] = randomInputs(21, [[48, 16, 16, 16], [3, 3, 16, 16], [3, 3, 16, 32], [3, 3, 32, 32]]);
  const network = (input: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
    const h1 = tf.relu(tf.conv2d(input as tf.Tensor4D, a as tf.Tensor4D, 1, 'same'));
    const h2 = tf.relu(tf.conv2d(h1, b as tf.Tensor4D, 2, 'same'));
    return tf.sum(tf.square(tf.conv2d(h2, c as tf.Tensor4D, 1, 'same')));
  };
  const gradients = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const tensors = [x, w1, w2, w3].map((input) => tf.tensor(input.values, input.shape));
      const grads = tf.grads((input, a, b, c) => network(input, a, b, c))(tensors);
      // read in reverse: the last layer's gradient is the one most likely still being computed
      return grads.slice(1).reverse().map((g) => g.dataSync() as Float32Array);
    });
  };
  const before = background.jobsSubmitted;
  const withBackground = await gradients('onnx');
  assert.ok(background.jobsSubmitted > before, 'no filter gradient went to the background thread');
  assert.equal(background.busy, false, 'values still pending after they were read');
  background.enabled = false;
  const submitted = background.jobsSubmitted;
  const switchedOff = await gradients('onnx');
  background.enabled = true;
  assert.equal(background.jobsSubmitted, submitted, 'a job went to the background thread while it was switched off');
  const mainOnly = await gradients(NO_BACKGROUND);
  assert.deepEqual(switchedOff, mainOnly);
  mainOnly.forEach((expected, i) => {
    assert.deepEqual(new Uint32Array(withBackground[i].buffer, withBackground[i].byteOffset, withBackground[i].length),
      new Uint32Array(expected.buffer, expected.byteOffset, expected.length), `filter gradient ${i} differs`);
    assert.ok(expected.some((v) => v !== 0) && !expected.some(Number.isNaN), `filter gradient ${i} is degenerate`);
  });
});

test('the background thread\'s x and dy are held until its filter gradient is read: blocks freed meanwhile are not handed out again', { skip }, async (t) => {
  const backend = await onnxBackendWithCApi(t, 'onnx', 'background thread');
  if (backend === undefined) return;
  const background = backend.background;
  assert.ok(background !== undefined, 'the 2-thread onnx backend has a background thread');
  const [x, dy] = randomInputs(23, [[64, 32, 32, 16], [64, 32, 32, 16]]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 16] } as unknown as tf.NamedAttrMap;
  const filterGrad = (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: a, dy: b }, attrs) as tf.Tensor;
  await tf.setBackend(NO_BACKGROUND);
  const expected = tf.tidy(() => filterGrad(tf.tensor(x.values, x.shape), tf.tensor(dy.values, dy.shape)).dataSync() as Float32Array);
  await tf.setBackend('onnx');
  // Run until a job went to the thread (it starts on first use, and takes jobs only when idle).
  let actual: Float32Array | undefined;
  for (let tries = 0; actual === undefined && tries < 50; tries++) {
    const before = background.jobsSubmitted;
    const [xs, dys] = [tf.tensor(x.values, x.shape), tf.tensor(dy.values, dy.shape)];
    const dw = filterGrad(xs, dys);
    const handedOver = background.jobsSubmitted > before;
    // Free x and dy at once and take tensors of their size: without the holds these would get
    // their blocks and overwrite them while the thread still reads them.
    tf.dispose([xs, dys]);
    const fillers = [tf.fill(x.shape, 7), tf.fill(dy.shape, -3)];
    const values = dw.dataSync() as Float32Array;
    tf.dispose([dw, ...fillers]);
    if (handedOver) actual = values;
  }
  assert.ok(actual !== undefined, 'no filter gradient went to the background thread');
  assert.deepEqual(new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(expected.buffer, expected.byteOffset, expected.length));
  assert.ok(expected.some((v) => v !== 0) && !expected.some(Number.isNaN), 'degenerate filter gradient');
});

test('batch norm\'s row passes shared with the row thread are the main thread\'s alone bit for bit', { skip }, async (t) => {
  const backend = await onnxBackendWithCApi(t, ROW_THREAD, 'row thread');
  if (backend === undefined) return;
  const rows = backend.rows;
  assert.ok(rows !== undefined, 'the row-thread variant has a row thread');
  await tf.setBackend(NO_ROW_THREAD);
  assert.equal((tf.backend() as OnnxBackend).rows, undefined, 'rowThread: false still made a row thread');
  const outputs = async (backend: string, input: Input[], relu: boolean) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const [x, gamma, beta] = input.map((i) => tf.tensor(i.values, i.shape));
      const [r] = randomInputs(17, [input[0].shape]);
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { y, mean, variance } = fusedBatchNormTrain(a, g as tf.Tensor1D, b as tf.Tensor1D, { epsilon: 1e-5, relu });
        tf.dispose([mean, variance]);
        return tf.sum(tf.mul(y, tf.tensor(r.values, r.shape)));
      };
      const { value, grads } = tf.valueAndGrads(f)([x, gamma, beta]);
      return [value, ...grads].map((t) => t.dataSync() as Float32Array);
    });
  };
  // several chunks per pass: unrolled (16, 12 channels) and generic (10) kernels
  for (const shape of [[16, 16, 16, 16], [16, 16, 20, 12], [24, 16, 16, 10]]) {
    const channels = shape[shape.length - 1];
    const input = randomInputs(16, [shape, [channels], [channels]]);
    input[0].values = input[0].values.map((v, i) => 3 * v + 5 + (i % channels));
    for (const relu of [false, true]) {
      const expected = await outputs(NO_ROW_THREAD, input, relu);
      // The thread starts on first use without being waited for: run until it has taken part.
      const before = rows.chunksElsewhere;
      let actual = await outputs(ROW_THREAD, input, relu);
      for (let tries = 0; rows.chunksElsewhere === before && tries < 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        actual = await outputs(ROW_THREAD, input, relu);
      }
      assert.ok(rows.chunksElsewhere > before, `${shape}${relu ? ' + relu' : ''}: the row thread ran no chunk`);
      expected.forEach((e, i) => {
        assert.deepEqual(new Uint32Array(actual[i].buffer, actual[i].byteOffset, actual[i].length),
          new Uint32Array(e.buffer, e.byteOffset, e.length), `${shape}${relu ? ' + relu' : ''}: output ${i} differs`);
        assert.ok(!e.some(Number.isNaN) && e.some((v) => v !== 0), `${shape}: output ${i} is degenerate`);
      });
    }
  }
  rows.enabled = false;
  const elsewhere = rows.chunksElsewhere;
  await outputs(ROW_THREAD, randomInputs(18, [[16, 16, 16, 16], [16], [16]]), true);
  rows.enabled = true;
  assert.equal(rows.chunksElsewhere, elsewhere, 'the row thread ran a chunk while switched off');
});

describe('a conv-bn-relu residual network on onnx', { skip }, () => {
  /** A two-stage residual network with batch-norm on batch statistics, as in lib/models. */
  function network(params: tf.Tensor[], x: tf.Tensor): tf.Tensor {
    const [stem, a1, a2, b1, b2, shortcut, dense] = params;
    const convBn = (h: tf.Tensor, w: tf.Tensor, stride: number, pad: number) => {
      const y = tf.conv2d(h as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      return tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5)));
    };
    let h = tf.relu(convBn(x, stem, 1, 1));
    h = tf.relu(tf.add(convBn(tf.relu(convBn(h, a1, 1, 1)), a2, 1, 1), h));
    h = tf.relu(tf.add(convBn(tf.relu(convBn(h, b1, 2, 1)), b2, 1, 1), convBn(h, shortcut, 2, 0)));
    return tf.matMul(tf.mean(h, [1, 2]), dense);
  }

  const shapes = [[4, 12, 12, 3], [3, 3, 3, 16], [3, 3, 16, 16], [3, 3, 16, 16], [3, 3, 16, 32], [3, 3, 32, 32], [1, 1, 16, 32], [32, 10]];

  test('loss and every gradient match the cpu backend', async () => {
    const inputs = randomInputs(13, shapes);
    const [labels] = randomInputs(14, [[4, 10]]);
    const lossAndGrads = (backend: string) =>
      outputAndGrads(
        backend,
        (x, ...params) => tf.losses.softmaxCrossEntropy(tf.softmax(tf.tensor(labels.values, labels.shape)), network(params, x)),
        inputs,
        true,
      );
    const expected = await lossAndGrads('cpu');
    const actual = await lossAndGrads('onnx');
    expected.forEach((e, i) => assertClose(actual[i], e, i === 0 ? 'loss' : `gradient of input ${i - 1}`));
  });
});

test('strided filter gradients run on row phases and column groups where their grid wastes little', async () => {
  const { windowGrid } = await import('../src/kernels/conv-filter-grad');
  const layer: ConvGeometry = {
    batch: 256, inHeight: 32, inWidth: 32, inChannels: 16, outHeight: 16, outWidth: 16, outChannels: 32,
    filterHeight: 3, filterWidth: 3, strides: [2, 2], dilations: [1, 1], pads: [0, 0, 1, 1],
  };
  assert.deepEqual(windowGrid(layer), { stride: 2, gridHeight: 17, gridWidth: 17, columnGroups: 2, tail: 18 });
  assert.deepEqual(windowGrid({ ...layer, filterHeight: 5, filterWidth: 5 }), { stride: 2, gridHeight: 18, gridWidth: 18, columnGroups: 3, tail: 38 });
  assert.equal(windowGrid({ ...layer, filterHeight: 1, filterWidth: 1 }), undefined, 'a 1x1 stride-2 filter reads one phase in four');
  assert.equal(windowGrid({ ...layer, strides: [2, 1] }), undefined);
  assert.deepEqual(windowGrid({ ...layer, strides: [1, 1], outHeight: 32, outWidth: 32 }), { stride: 1, gridHeight: 34, gridWidth: 34, columnGroups: 3, tail: 70 });
});

test('the stride-1 filter gradient is cut into chunks of images that fit the cache', async () => {
  const { filterGradChunkImages } = await import('../src/kernels/conv-filter-grad');
  const geometry: ConvGeometry = {
    batch: 40, inHeight: 24, inWidth: 24, inChannels: 16, outHeight: 24, outWidth: 24, outChannels: 16,
    filterHeight: 3, filterWidth: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1],
  };
  assert.equal(filterGradChunkImages(geometry), 12, '26 x 26 padded pixels x 32 channels x 4 bytes = 86.5 KB per image, 12 in 1 MiB');
  assert.equal(filterGradChunkImages({ ...geometry, batch: 5 }), 5, 'never more than the batch');
  assert.equal(filterGradChunkImages(geometry, 10), 1, 'at least one image');
});

test('ORT writes an output straight into the array given for it', { skip }, async () => {
  const { loadOrtRuntime } = await import('../src/runtime');
  const runtime = loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false });
  try {
    const graph = () => ({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float' as const, shape: [2, 3] }],
      outputs: [{ name: 'y', type: 'float' as const, shape: [2, 3] }],
    });
    const feeds = [{ name: 'x', data: new Float32Array([1, -2, 3, -4, 5, -6]), dims: [2, 3] }];
    const into = new Float32Array(6).fill(Number.NaN);
    const [y] = runtime.run('relu', graph, feeds, ['y'], false, [into]);
    assert.equal(y, into, 'the given array itself comes back');
    assert.deepEqual([...into], [1, 0, 3, 0, 5, 0]);
    const [fresh] = runtime.run('relu', graph, feeds, ['y']);
    assert.deepEqual([...fresh], [1, 0, 3, 0, 5, 0]);
    assert.throws(() => runtime.run('relu', graph, feeds, ['y'], false, [new Float32Array(5)]), /output y of relu has 6 elements; the array given for it has 5/);
  } finally {
    runtime.dispose();
  }
});

test('a buffer offered for an output of unfixed shape goes back to the pool', { skip }, async () => {
  await tf.setBackend('onnx');
  const backend = tf.backend() as OnnxBackend;
  assert.ok(backend.arena !== undefined, 'the onnx backend has its SIMD arena');
  const size = 8192;
  const graph = () => ({
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: 'float' as const, shape: ['n', size] }],
    outputs: [{ name: 'y', type: 'float' as const, shape: ['n', size] }],
  });
  const x = new Float32Array(size).map((_, i) => i - size / 2);
  const usedAfter: number[] = [];
  for (let call = 0; call < 5; call++) {
    const [y] = backend.runGraph('relu-unfixed', graph, [{ name: 'x', data: x, dims: [1, size] }], [{ name: 'y', shape: [1, size] }]);
    assert.equal(backend.float32(y)[size - 1], size / 2 - 1);
    backend.disposeData(y.dataId);
    usedAfter.push(backend.arena.usedBytes);
  }
  assert.equal(usedAfter[4], usedAfter[1], `the arena kept growing: ${usedAfter.join(', ')} bytes`);
});
