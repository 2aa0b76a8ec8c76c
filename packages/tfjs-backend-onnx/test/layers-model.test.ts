/**
 * The backend serves any TensorFlow.js program, not only hand-written training steps: a tf.layers
 * CNN (convolutions, batch norm, pooling, dropout-free) and an MLP, trained with model.fit from the
 * same initial weights on the same data, give the cpu backend's losses epoch by epoch, and fit()
 * leaves no tensor behind. Skipped when onnxruntime-node cannot load.
 */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ONNX_BACKEND_NAME, registerOnnxBackend } from '../src/index';
import { onnxUnavailableReason } from '../src/availability';
import { Rng } from './helpers/random';

const skip = onnxUnavailableReason(() => registerOnnxBackend({ threads: 2 }));

/** |loss_onnx − loss_cpu| / loss_cpu allowed per epoch: float32 sums in another order, over 4 epochs of SGD */
const LOSS_TOLERANCE = 1e-3;

type ModelFactory = () => tf.LayersModel;

/** Seeded initialisers, so both backends start from the same weights. */
const init = (seed: number) => tf.initializers.glorotUniform({ seed });

const smallCnn: ModelFactory = () =>
  tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(2) }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });

const mlp: ModelFactory = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [48], units: 64, activation: 'relu', kernelInitializer: init(4) }),
      tf.layers.dense({ units: 32, activation: 'tanh', kernelInitializer: init(5) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  });

/** Seeded inputs with labels that depend on them, so the loss falls and the comparison means something. */
function dataset(inputShape: number[], examples: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(7);
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: examples * size }, () => rng.normal());
  const labels = Int32Array.from({ length: examples }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < 12; j++) sum += x[i * size + j];
    return Math.min(3, Math.max(0, Math.floor(sum / 2 + 2)));
  });
  return { x, labels };
}

/** Losses of 4 epochs of model.fit on `backend`, and the tensors left behind. */
async function fitLosses(backend: string, makeModel: ModelFactory, inputShape: number[]): Promise<{ losses: number[]; leaked: number }> {
  await tf.setBackend(backend);
  const examples = 64;
  const { x, labels } = dataset(inputShape, examples);
  const model = makeModel();
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
  const xs = tf.tensor(x, [examples, ...inputShape]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
  // one epoch first, so the optimizer's slots and the backend's caches exist before counting
  const first = await model.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
  const before = tf.memory().numTensors;
  const rest = await model.fit(xs, ys, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
  const leaked = tf.memory().numTensors - before;
  const losses = [...first.history.loss, ...rest.history.loss].map(Number);
  tf.dispose([xs, ys]);
  model.dispose();
  return { losses, leaked };
}

describe('tf.layers models trained with model.fit on the onnx backend', { skip }, () => {
  for (const [name, makeModel, inputShape] of [['a small CNN', smallCnn, [16, 16, 3]], ['an MLP', mlp, [48]]] as const) {
    test(`${name}: the cpu backend's losses, epoch by epoch, and no tensor left behind`, async () => {
      const expected = await fitLosses('cpu', makeModel, [...inputShape]);
      const actual = await fitLosses(ONNX_BACKEND_NAME, makeModel, [...inputShape]);
      assert.ok(expected.losses[3] < expected.losses[0], `the loss must fall for the comparison to mean something: ${expected.losses}`);
      actual.losses.forEach((loss, epoch) => {
        const relative = Math.abs(loss - expected.losses[epoch]) / expected.losses[epoch];
        assert.ok(relative <= LOSS_TOLERANCE, `epoch ${epoch + 1}: onnx ${loss} vs cpu ${expected.losses[epoch]} (relative ${relative.toExponential(2)})`);
      });
      assert.equal(actual.leaked, 0, 'model.fit left tensors behind on the onnx backend');
    });
  }
});
