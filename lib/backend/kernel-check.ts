/**
 * Runs every op a training step and the augmentations use, forward and (where training needs it)
 * backward, on one backend, and lists what fails: a missing kernel shows up here before it shows
 * up an hour into a run. `npx tsx lib/backend/kernel-check.ts [backend]` (default wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { parseBackendName, selectBackend } from './select';

export interface KernelCheck {
  op: string;
  /** what the gradient was taken with respect to; none for augmentations, which run off the tape */
  backward: Wrt;
  ok: boolean;
  /** the error message when not ok */
  error: string;
}

type Wrt = 'none' | 'x' | 'x and filter';
type Case = [op: string, backward: Wrt, run: (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor];

/** A k x k convolution with the first k x k taps and `cout` output channels of the [3, 3, 4, 6] filter. */
const conv = (k: number, cout: number, stride: number) => (x: tf.Tensor4D, filter: tf.Tensor4D) =>
  tf.conv2d(x, tf.slice(filter, [0, 0, 0, 0], [k, k, 4, cout]), stride, 'same');

/** x is [2, 8, 8, 4], filter [3, 3, 4, 6]. */
const CASES: Case[] = [
  ['conv2d 3x3 stride 1', 'x and filter', conv(3, 6, 1)],
  ['conv2d 3x3 stride 2', 'x and filter', conv(3, 6, 2)],
  ['conv2d 1x1 stride 2', 'x and filter', conv(1, 6, 2)],
  ['fused conv2d + relu', 'x and filter', (x, filter) => tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', activation: 'relu' })],
  ['moments + normalise', 'x', (x) => { const m = tf.moments(x, [0, 1, 2]); return tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))); }],
  ['batchNorm', 'x', (x) => { const m = tf.moments(x, [0, 1, 2]); return tf.batchNorm(x, m.mean, m.variance, tf.zeros([4]), tf.ones([4]), 1e-5); }],
  ['relu', 'x', (x) => tf.relu(x)],
  ['add', 'x', (x) => tf.add(x, tf.mul(x, 2))],
  ['mean (global average pool)', 'x', (x) => tf.mean(x, [1, 2])],
  ['maxPool 2x2', 'x', (x) => tf.maxPool(x, 2, 2, 'valid')],
  ['matMul', 'x and filter', (x, filter) => tf.matMul(tf.reshape(x, [64, 8]), tf.reshape(filter, [8, 27]))],
  ['softmax', 'x', (x) => tf.softmax(tf.reshape(x, [4, -1]))],
  ['logSumExp', 'x', (x) => tf.logSumExp(tf.reshape(x, [4, -1]), 1)],
  ['softmaxCrossEntropy', 'x', (x) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 2], 'int32'), 256), tf.reshape(x, [2, -1]))],
  ['l2 normalise', 'x', (x) => { const f = tf.reshape(x, [2, -1]); return tf.div(f, tf.add(tf.norm(f, 'euclidean', 1, true), 1e-8)); }],
  ['gather', 'x', (x) => tf.gather(tf.reshape(x, [8, -1]), tf.tensor1d([1, 0, 7, 1], 'int32'))],
  ['concat', 'x', (x) => tf.concat([x, x], 0)],
  ['slice', 'x', (x) => tf.slice(x, [0, 1, 1, 0], [2, 4, 4, 4])],
  ['cropAndResize', 'none', (x) => tf.image.cropAndResize(x, tf.tensor2d([[0, 0, 1, 1], [0.1, 0.2, 0.9, 0.7]]), tf.tensor1d([0, 1], 'int32'), [6, 6])],
  ['flipLeftRight', 'none', (x) => tf.image.flipLeftRight(x)],
  ['rgbToGrayscale', 'none', (x) => tf.image.rgbToGrayscale(tf.slice(x, [0, 0, 0, 0], [2, 8, 8, 3]))],
  ['depthwiseConv2d (blur)', 'none', (x) => tf.depthwiseConv2d(x, tf.fill([3, 3, 4, 1], 1 / 9) as tf.Tensor4D, 1, 'same')],
];

/** Runs each case on the current backend, with its gradient where training needs one. */
export function checkTrainingKernels(): KernelCheck[] {
  const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
  const filter = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 8) as tf.Tensor4D;
  const results = CASES.map(([op, backward, run]): KernelCheck => {
    try {
      tf.tidy(() => {
        const loss = (...inputs: tf.Tensor[]) => tf.sum(run(inputs[0] as tf.Tensor4D, (inputs[1] ?? filter) as tf.Tensor4D));
        const outputs = backward === 'none' ? [run(x, filter)] : tf.grads(loss)(backward === 'x' ? [x] : [x, filter]);
        for (const output of outputs) output.dataSync();
      });
      return { op, backward, ok: true, error: '' };
    } catch (error) {
      return { op, backward, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  });
  tf.dispose([x, filter]);
  return results;
}

async function main(): Promise<void> {
  await selectBackend(parseBackendName(process.argv[2] ?? 'wasm', 'backend argument'));
  const results = checkTrainingKernels();
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.op} (${r.backward === 'none' ? 'forward' : `gradient wrt ${r.backward}`})${r.ok ? '' : `: ${r.error}`}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${tf.getBackend()}: ${results.length - failed}/${results.length} ok`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
