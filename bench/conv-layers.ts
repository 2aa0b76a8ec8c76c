/**
 * Milliseconds and GFLOP/s of each convolution of an encoder, forward, input gradient and filter
 * gradient, on one backend: where a training step's convolution time goes, layer by layer.
 *
 *   npx tsx bench/conv-layers.ts [--preset quick] [--backend onnx] [--batch 256] [--repeats 9] [--evict-mb 0]
 *
 * The batch defaults to 256, what a SimCLR step of batch 128 feeds the encoder (two views). Each
 * time is the second fastest of `repeats` calls: on a shared machine the load only ever adds time.
 * Where page faults are slow (as on this project's virtual machines), glibc handing large
 * freed blocks back to the OS between calls adds them to every call, which the training loop does
 * not pay; `MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296` keeps them out.
 * A call repeated on the same tensors finds them in the cache; in a training step they come from
 * memory. `--evict-mb 1024` writes to every cache line of a 1 GiB buffer before each call
 * (outside the time), which evicts them from any cache this machine has, as in the step: on the
 * quick encoder at batch 128, the sums over the layers then took 1.5-1.7 times as long, on onnx
 * and in PyTorch alike (bench/pytorch-layers.py takes the same option; README, Performance).
 * The onnx backend's background thread is switched off here: it would take a filter gradient
 * over, return at once and leave the work out of the time.
 *
 * bench/pytorch-layers.py times the same convolutions in PyTorch, in the same format.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from 'tfjs-backend-onnx';
import { selectBackend } from '../lib/backend/select';
import { getPreset } from '../lib/config/presets';
import type { BackendName } from '../lib/config/types';
import { benchArgs, secondFastest } from './args';

interface ConvLayer {
  /** input [B, H, W, Ci] */
  x: [number, number, number, number];
  /** filter [k, k, Ci, Co] */
  filter: [number, number, number, number];
  stride: number;
}

/** The distinct convolutions of a CIFAR ResNet (lib/models/resnet.ts) of this width and stages. */
function resnetLayers(width: number, blocksPerStage: number[], batch: number): ConvLayer[] {
  const layers: ConvLayer[] = [{ x: [batch, 32, 32, 3], filter: [3, 3, 3, width], stride: 1 }];
  let [size, channels] = [32, width];
  blocksPerStage.forEach((_, s) => {
    const out = width * 2 ** s;
    const stride = s > 0 ? 2 : 1;
    layers.push({ x: [batch, size, size, channels], filter: [3, 3, channels, out], stride });
    if (stride !== 1 || channels !== out) layers.push({ x: [batch, size, size, channels], filter: [1, 1, channels, out], stride });
    size /= stride;
    if (stride !== 1) layers.push({ x: [batch, size, size, out], filter: [3, 3, out, out], stride: 1 });
    channels = out;
  });
  return layers;
}

/** A pass that evicts every cache line this process owns: writes to a buffer of `megabytes` (none for 0). */
function cacheEvictor(megabytes: number): () => void {
  if (megabytes === 0) return () => undefined;
  const buffer = new Float32Array(megabytes * 2 ** 18);
  const floatsPerLine = 16;
  return () => {
    for (let i = 0; i < buffer.length; i += floatsPerLine) buffer[i] += 1;
  };
}

function timeCalls(repeats: number, evict: () => void, run: () => tf.Tensor): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    evict();
    const start = performance.now();
    // The cpu-side backends (onnx, wasm, cpu) run kernels synchronously: the result is ready here.
    // Reading it back (dataSync) would add a copy of the output to every time.
    const result = run();
    times.push(performance.now() - start);
    result.dispose();
  }
  return secondFastest(times);
}

async function main(): Promise<void> {
  const args = benchArgs(['--preset', '--backend', '--batch', '--repeats', '--evict-mb']);
  const preset = getPreset(args.get('--preset') ?? 'quick');
  const backend = (args.get('--backend') ?? 'onnx') as BackendName;
  const batch = Number(args.get('--batch') ?? 256);
  const repeats = Number(args.get('--repeats') ?? 9);
  const evictMegabytes = Number(args.get('--evict-mb') ?? 0);
  if (!Number.isInteger(evictMegabytes) || evictMegabytes < 0) throw new Error(`--evict-mb ${args.get('--evict-mb')}: give a whole number of megabytes, 0 for none`);
  const evict = cacheEvictor(evictMegabytes);
  await selectBackend(backend);
  const background = (tf.backend() as Partial<OnnxBackend>).background;
  if (background !== undefined) background.enabled = false;
  const { width, blocksPerStage } = preset.pretrain.encoder;
  console.log(`${preset.name} encoder (width ${width}, blocks ${blocksPerStage.join('-')}), batch ${batch}, backend ${tf.getBackend()}${evictMegabytes > 0 ? `, caches evicted (${evictMegabytes} MB) before each call` : ''}`);
  const totals = { forward: 0, inputGrad: 0, filterGrad: 0 };
  for (const { x: xShape, filter: wShape, stride } of resnetLayers(width, blocksPerStage, batch)) {
    const pad = (wShape[0] - 1) / 2;
    const x = tf.randomNormal(xShape) as tf.Tensor4D;
    const w = tf.randomNormal(wShape) as tf.Tensor4D;
    const y = tf.conv2d(x, w, stride, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const gflop = (2 * y.size * wShape[0] * wShape[1] * wShape[2]) / 1e9;
    const forward = timeCalls(repeats, evict, () => tf.conv2d(x, w, stride, pad));
    const inputGrad = timeCalls(repeats, evict, () => tf.conv2dTranspose(dy, w, xShape, stride, pad));
    const filterGrad = timeCalls(repeats, evict, () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: stride, pad, dataFormat: 'NHWC', filterShape: wShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    const rate = (ms: number) => `${ms.toFixed(1).padStart(6)} ms ${(gflop / ms * 1000).toFixed(0).padStart(4)} GF/s`;
    console.log(`x ${xShape.join('x').padEnd(13)} w ${wShape.join('x').padEnd(9)} s${stride}: forward ${rate(forward)} | input grad ${rate(inputGrad)} | filter grad ${rate(filterGrad)}`);
    totals.forward += forward;
    totals.inputGrad += inputGrad;
    totals.filterGrad += filterGrad;
    tf.dispose([x, w, y, dy]);
  }
  const total = totals.forward + totals.inputGrad + totals.filterGrad;
  console.log(`sum over the distinct layers: ${total.toFixed(1)} ms (forward ${totals.forward.toFixed(1)}, input grad ${totals.inputGrad.toFixed(1)}, filter grad ${totals.filterGrad.toFixed(1)})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
