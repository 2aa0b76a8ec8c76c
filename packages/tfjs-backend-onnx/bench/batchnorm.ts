/**
 * Milliseconds of the training-mode batch-norm passes (+ ReLU) of the onnx backend's SIMD arena,
 * the generic kernels (simd/batchnorm-kernels.ts) against those compiled for the channel count
 * (simd/batchnorm-unrolled.ts), on the activations of a small CIFAR ResNet's three stages (32x32x16, 16x16x32, 8x8x64).
 *
 *   npm run bench:batchnorm -- [--batch 128] [--repeats 15]
 *
 * Forward: the statistics pass and the output pass; backward: the gradient sums and the input
 * gradient. Each time is the second fastest of `repeats` calls, the two kinds alternating. The
 * arrays stay in the cache between calls as far as they fit, so this shows the kernels' own speed;
 * inside a training step the activations come from memory and the gap narrows.
 */
import { SLOT } from '../src/kernels/batchnorm-train';
import { WasmArena } from '../src/simd/arena';
import type { BatchNormSimd } from '../src/simd/batchnorm-kernels';
import { positiveIntOptions, secondFastest } from './options';

const { batch, repeats } = positiveIntOptions({ batch: 128, repeats: 15 });
const arena = new WasmArena(1024 * 2 ** 20);

console.log(`batch ${batch}, second fastest of ${repeats}, ms`);
console.log('activation        | forward generic | forward per-C | backward generic | backward per-C');
for (const [size, channels] of [[32, 16], [16, 32], [8, 64]]) {
  const n = batch * size * size * channels;
  const rows = n / channels;
  const take = () => {
    const values = arena.take(n);
    if (values === undefined) throw new Error('the arena is full');
    for (let i = 0; i < n; i++) values[i] = Math.sin(i * 0.37);
    return values;
  };
  const [x, dy, out] = [take(), take(), take()];
  // per-channel vectors in the scratch slots batchnorm-train.ts puts them in
  const vector = (slot: number) => arena.scratch(slot, Float32Array.from({ length: channels }, (_, c) => 0.5 + c / channels));
  const [center, a, b, k1, k2, k3, sum, sq] = [SLOT.center, SLOT.a, SLOT.b, SLOT.k1, SLOT.k2, SLOT.k3, SLOT.sum, SLOT.sq].map(vector);
  const block = Math.max(1, Math.floor(4096 / channels));
  const forward = (kernels: BatchNormSimd) => {
    for (let first = 0; first < rows; first += block) kernels.channelSums(x.byteOffset + first * channels * 4, center, sum, sq, Math.min(block, rows - first), channels);
    kernels.affine.relu(x.byteOffset, a, b, out.byteOffset, rows, channels);
  };
  const backward = (kernels: BatchNormSimd) => {
    for (let first = 0; first < rows; first += block) {
      const offset = first * channels * 4;
      kernels.gradientSums.relu(x.byteOffset + offset, dy.byteOffset + offset, a, b, center, sum, sq, Math.min(block, rows - first), channels);
    }
    kernels.gradientInput.relu(x.byteOffset, dy.byteOffset, a, b, k1, k2, k3, out.byteOffset, rows, channels);
  };
  const kinds = [arena.kernels.batchNorm, arena.batchNorm(channels)];
  const times = [[], [], [], []] as number[][];
  for (let r = 0; r < repeats; r++) {
    kinds.forEach((kernels, k) => {
      let start = performance.now();
      forward(kernels);
      times[k].push(performance.now() - start);
      start = performance.now();
      backward(kernels);
      times[2 + k].push(performance.now() - start);
    });
  }
  const cells = times.map((t) => secondFastest(t).toFixed(2).padStart(6));
  console.log(`[${batch}, ${size}, ${size}, ${channels}]`.padEnd(17), '|', cells.join(' | '));
  [x, dy, out].forEach((values) => arena.recycle(values));
}
