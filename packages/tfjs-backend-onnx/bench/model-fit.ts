/**
 * Images per second of `model.fit` on a tf.layers CNN for CIFAR-sized images (three conv-BN-ReLU
 * stages of 32, 64 and 128 filters with max pooling, then a dense softmax), on the onnx backend and
 * on the plain cpu backend: what the backend gives an ordinary TensorFlow.js program.
 *
 *   npm run bench:fit -- [--batch 128] [--batches 8] [--epochs 3] [--cpu-batches 1]
 *
 * Each backend fits the same model from the same initial weights on random images; the first epoch
 * warms up (graphs compiled, buffers allocated) and is left out; the time of each later epoch is
 * reported, with the images per second of the fastest. The cpu backend's convolution gradients are
 * a hundred times slower or more, so it fits only `cpu-batches` batches per epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { ONNX_BACKEND_NAME, registerOnnxBackend } from '../src/index';
import { positiveIntOptions } from './options';

const { batch, batches, epochs, 'cpu-batches': cpuBatches } = positiveIntOptions({ batch: 128, batches: 8, epochs: 3, 'cpu-batches': 1 });

function cifarCnn(): tf.LayersModel {
  const model = tf.sequential();
  let seed = 1;
  for (const [i, filters] of [32, 64, 128].entries()) {
    model.add(tf.layers.conv2d({
      ...(i === 0 ? { inputShape: [32, 32, 3] } : {}), filters, kernelSize: 3, padding: 'same', useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seed++ }),
    }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
  return model;
}

async function timeFit(backend: string, batchesPerEpoch: number): Promise<number[]> {
  await tf.setBackend(backend);
  const examples = batch * batchesPerEpoch;
  const xs = tf.randomNormal([examples, 32, 32, 3], 0, 1, 'float32', 7);
  const ys = tf.oneHot(tf.randomUniform([examples], 0, 10, 'int32', 8) as tf.Tensor1D, 10);
  const model = cifarCnn();
  const seconds: number[] = [];
  for (let epoch = 0; epoch <= epochs; epoch++) {
    const start = performance.now();
    await model.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
    if (epoch > 0) seconds.push((performance.now() - start) / 1000);
  }
  tf.dispose([xs, ys]);
  model.dispose();
  return seconds;
}

async function main(): Promise<void> {
  registerOnnxBackend();
  console.log(`model.fit, CIFAR-sized CNN, batch ${batch}, ${epochs} timed epochs after one warm-up`);
  const rates = new Map<string, number>();
  for (const [backend, batchesPerEpoch] of [[ONNX_BACKEND_NAME, batches], ['cpu', cpuBatches]] as const) {
    const seconds = await timeFit(backend, batchesPerEpoch);
    rates.set(backend, (batch * batchesPerEpoch) / Math.min(...seconds));
    console.log(`${backend.padEnd(5)} ${batchesPerEpoch} batches per epoch: ${seconds.map((s) => s.toFixed(2)).join(' / ')} s; ${rates.get(backend)?.toFixed(1)} images/s`);
  }
  console.log(`onnx / cpu: ${((rates.get(ONNX_BACKEND_NAME) ?? 0) / (rates.get('cpu') ?? 1)).toFixed(1)}x`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
