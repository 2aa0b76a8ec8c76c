/**
 * The wasm training kernels (lib/backend/wasm-gradients.ts) against the cpu backend: values and
 * gradients agree to 1e-4 of the largest cpu value, and repeated gradients allocate nothing.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend/select';
import { checkTrainingKernels } from '../lib/backend/kernel-check';
import {
  installWasmTrainingKernels, uninstallWasmTrainingKernels, wasmTrainingKernelNames,
} from '../lib/backend/wasm-gradients';
import { Rng } from '../lib/util/random';
import { assertCloseToCpu } from './helpers/close';

/** max |wasm − cpu| allowed, as a fraction of max |cpu| */
const TOLERANCE = 1e-4;

interface Input {
  shape: number[];
  values: Float32Array;
}

/** Standard normal inputs of the given shapes; `round` gives small integers, so with ties. */
function randomInputs(seed: number, shapes: number[][], round = false): Input[] {
  const rng = new Rng(seed);
  return shapes.map((shape) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = round ? Math.round(rng.normal()) : rng.normal();
    return { shape, values };
  });
}

/** f's value and its gradients with respect to every input, computed on `backend`. */
async function valueAndGrads(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: Input[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(() => {
    const xs = inputs.map((input) => tf.tensor(input.values, input.shape));
    const { value, grads } = tf.valueAndGrads(f)(xs);
    return [value, ...grads];
  });
  const arrays = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outputs);
  return arrays;
}

/** f's value alone, for ops without a gradient (or with out-of-range inputs the gradient rejects). */
async function valueOnly(backend: string, f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: Input[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const value = tf.tidy(() => f(...inputs.map((input) => tf.tensor(input.values, input.shape))));
  const array = value.dataSync() as Float32Array;
  value.dispose();
  return [array];
}


/** Runs f on cpu and wasm with the same inputs and compares the value and every gradient. */
async function compareWithCpu(
  what: string,
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: Input[],
  withGradients = true,
): Promise<void> {
  const run = withGradients ? valueAndGrads : valueOnly;
  const expected = await run('cpu', f, inputs);
  const actual = await run('wasm', f, inputs);
  expected.forEach((e, i) => assertCloseToCpu(actual[i], e, TOLERANCE, `${what}, ${i === 0 ? 'value' : `gradient ${i - 1}`}`, { backend: 'wasm' }));
}

/** A loss whose gradient differs per element: sum(y · r) for a fixed pseudo-random r. */
function weightedSum(y: tf.Tensor): tf.Scalar {
  const r = tf.sin(tf.mul(tf.range(0, y.size), 0.37)).reshape(y.shape);
  return tf.sum(tf.mul(y, r));
}

function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5) as tf.Tensor4D;
}

let previousBackend: string;

before(async () => {
  previousBackend = tf.getBackend();
  await selectBackend('wasm'); // sets the wasm paths and installs the training kernels
});

after(async () => {
  if (previousBackend) await tf.setBackend(previousBackend);
});

describe('conv2d gradients on wasm match cpu', () => {
  // [N, H, W, Cin, Cout, k, stride, pad]
  const cases: Array<[number, number, number, number, number, number, number | [number, number], 'same' | 'valid' | number]> = [
    [2, 7, 7, 3, 5, 3, 1, 'same'],
    [2, 7, 7, 3, 5, 3, 2, 'same'],
    [1, 5, 5, 4, 2, 1, 2, 'same'],
    [2, 5, 5, 8, 16, 1, 1, 'same'],
    [3, 8, 8, 16, 8, 3, 2, 'same'],
    [2, 8, 8, 4, 4, 1, 2, 'same'],
    [2, 6, 9, 3, 4, 3, 2, 'valid'],
    [2, 9, 9, 2, 3, 3, 1, 'valid'],
    [2, 7, 7, 3, 4, 5, 2, 'same'],
    [2, 8, 8, 3, 4, 2, 2, 'same'],
    [2, 6, 7, 3, 4, 4, 1, 'same'],
    [2, 7, 7, 3, 4, 3, [1, 2], 'same'],
    [2, 7, 7, 3, 4, 3, 2, 1],
  ];
  for (const [n, h, w, cin, cout, k, stride, pad] of cases) {
    test(`x [${n},${h},${w},${cin}] filter ${k}x${k}x${cin}x${cout} stride ${stride} pad ${pad}`, async () => {
      const f = (x: tf.Tensor, filter: tf.Tensor) =>
        weightedSum(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, pad));
      await compareWithCpu('conv2d', f, randomInputs(n * 1000 + h * 10 + k, [[n, h, w, cin], [k, k, cin, cout]]));
    });
  }

  test('fused conv2d with bias and relu (its gradient calls the kernels directly)', async () => {
    const f = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) => weightedSum(
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 2, pad: 'same', activation: 'relu' }),
    );
    await compareWithCpu('fused conv2d', f, randomInputs(11, [[2, 7, 7, 3], [3, 3, 3, 4], [4]]));
  });

  test('conv2dTranspose forward (the Conv2DBackpropInput kernel)', async () => {
    const f = (dy: tf.Tensor, filter: tf.Tensor) =>
      weightedSum(tf.conv2dTranspose(dy as tf.Tensor4D, filter as tf.Tensor4D, [2, 7, 7, 3], 2, 'same'));
    await compareWithCpu('conv2dTranspose', f, randomInputs(12, [[2, 4, 4, 5], [3, 3, 3, 5]]));
  });
});

describe('other training ops on wasm match cpu', () => {
  test('batch norm in training mode (batch moments), gradients wrt x, gamma, beta', async () => {
    const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
      weightedSum(batchNormTraining(x as tf.Tensor4D, gamma, beta));
    await compareWithCpu('batch norm', f, randomInputs(21, [[4, 5, 5, 6], [6], [6]]));
  });

  // normal inputs give windows whose maximum is negative, where wasm's own MaxPoolGrad fails
  const pools: Array<[number[], number, number, 'valid' | 'same']> = [
    [[2, 8, 8, 3], 2, 2, 'valid'],
    [[2, 7, 7, 3], 2, 2, 'same'],
    [[2, 7, 9, 2], 3, 2, 'same'],
    [[2, 6, 6, 2], 3, 1, 'same'],
    [[2, 7, 7, 2], 3, 2, 'valid'],
  ];
  for (const [shape, k, stride, pad] of pools) {
    test(`max pool ${k}x${k} stride ${stride} ${pad} on [${shape}]`, async () => {
      const f = (x: tf.Tensor) => weightedSum(tf.maxPool(x as tf.Tensor4D, k, stride, pad));
      await compareWithCpu('max pool', f, randomInputs(22 + k + stride, [shape]));
    });
  }

  test('max pool gradient goes to the first of tied maxima, as on cpu', async () => {
    const f = (x: tf.Tensor) => weightedSum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    await compareWithCpu('max pool ties', f, randomInputs(29, [[2, 6, 6, 2]], true));
  });

  test('gather with repeated indices (gradient: UnsortedSegmentSum)', async () => {
    const f = (x: tf.Tensor) => weightedSum(tf.gather(x, tf.tensor1d([3, 0, 3, 5, 1, 3], 'int32')));
    await compareWithCpu('gather', f, randomInputs(23, [[6, 4]]));
  });

  test('unsortedSegmentSum drops ids outside [0, numSegments)', async () => {
    const ids = [2, -1, 0, 2, 7, 1];
    const f = (x: tf.Tensor) => weightedSum(tf.unsortedSegmentSum(x, tf.tensor1d(ids, 'int32'), 4));
    await compareWithCpu('unsortedSegmentSum', f, randomInputs(24, [[6, 3]]), false);
  });

  test('einsum (no gradient in tfjs): rgbToGrayscale, matrix product, batched product', async () => {
    const f = (image: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.addN([
      weightedSum(tf.image.rgbToGrayscale(image as tf.Tensor4D)),
      weightedSum(tf.einsum('ij,jk->ik', a, b)),
      weightedSum(tf.einsum('bij,bjk->bik', tf.reshape(a, [2, 3, 4]), tf.reshape(b, [2, 6, 5]).slice([0, 0, 0], [2, 4, 5]))),
    ]) as tf.Scalar;
    await compareWithCpu('einsum', f, randomInputs(25, [[2, 4, 4, 3], [6, 4], [4, 15]]), false);
  });

  test('residual block: conv-bn-relu-conv-bn + 1x1 stride-2 shortcut, then relu', async () => {
    const block = (...p: tf.Tensor[]) => {
      const [x, w1, g1, b1, w2, g2, b2, ws, gs, bs] = p;
      const h = tf.relu(batchNormTraining(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'), g1, b1));
      const main = batchNormTraining(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'), g2, b2);
      const shortcut = batchNormTraining(tf.conv2d(x as tf.Tensor4D, ws as tf.Tensor4D, 2, 'same'), gs, bs);
      return weightedSum(tf.relu(tf.add(main, shortcut)));
    };
    const shapes = [[4, 9, 9, 4], [3, 3, 4, 8], [8], [8], [3, 3, 8, 8], [8], [8], [1, 1, 4, 8], [8], [8]];
    await compareWithCpu('residual block', block, randomInputs(26, shapes));
  });
});

describe('wasm training kernels', () => {
  test('every op of a training step and the augmentations runs on wasm', async () => {
    await tf.setBackend('wasm');
    const failed = checkTrainingKernels().filter((r) => !r.ok);
    assert.deepEqual(failed, []);
  });

  test('repeated gradients allocate no tensors and no wasm memory', async () => {
    await tf.setBackend('wasm');
    const [xInput, wInput] = randomInputs(31, [[2, 8, 8, 4], [3, 3, 4, 8]]);
    const x = tf.tensor4d(xInput.values, [2, 8, 8, 4]);
    const w = tf.variable(tf.tensor4d(wInput.values, [3, 3, 4, 8]));
    const ids = tf.tensor1d([1, 0, 1], 'int32');
    const step = () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const y = tf.conv2d(x, w, 2, 'same'); // [2, 4, 4, 8]
        return weightedSum(tf.gather(tf.reshape(y, [2, -1]), ids));
      });
      return grads[w.name].dataSync();
    });
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.backend().numDataIds(), dataIds);
    tf.dispose([x, w, ids]);
  });

  test('uninstall restores wasm kernels and install adds them back', async () => {
    await tf.setBackend('wasm');
    uninstallWasmTrainingKernels();
    try {
      assert.equal(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'), undefined);
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      const filter = tf.ones([3, 3, 3, 2]) as tf.Tensor4D;
      // wasm's own Conv2DBackpropInput must still work after its kernel was swapped out and back
      const y = tf.conv2dTranspose(x, filter, [1, 4, 4, 3], 1, 'same');
      // 100 (pixel, in-grid 3x3 neighbour) pairs in a 4x4 grid, x 2 dy channels x 3 outputs
      assert.equal(tf.sum(y).dataSync()[0], 600);
      tf.dispose([x, filter, y]);
    } finally {
      installWasmTrainingKernels();
    }
    for (const name of wasmTrainingKernelNames()) assert.notEqual(tf.getKernel(name, 'wasm'), undefined, name);
  });
});
