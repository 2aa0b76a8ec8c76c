/**
 * The batch-norm passes compiled for one channel count (src/simd/batchnorm-unrolled.ts)
 * against the generic SIMD kernels (simd/batchnorm-kernels.ts): the same floats, bit for bit, for
 * channel counts that fill whole groups of 16 channels or leave a partial one, with and without
 * the ReLU, with inputs that straddle zero so the ReLU mask matters. Needs WebAssembly SIMD only.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOT } from '../src/kernels/batchnorm-train';
import { WasmArena } from '../src/simd/arena';
import { unrollable } from '../src/simd/batchnorm-unrolled';
import { Rng } from './helpers/random';
import { filledBlock as filled } from './helpers/arena';


function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const [a, e] = [new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(expected.buffer, expected.byteOffset, expected.length)];
  let nonZero = 0;
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}: element ${i} is ${actual[i]}, the generic kernel gives ${expected[i]}`);
    if (expected[i] !== 0) nonZero++;
  }
  assert.ok(nonZero > e.length / 4, `${what}: mostly zeros, the comparison checks little`);
}

test('batch-norm kernels compiled per channel count are the generic kernels bit for bit', () => {
  const arena = new WasmArena(32 * 2 ** 20);
  const rng = new Rng(3);
  assert.equal(unrollable(18), false, 'channel counts that are not multiples of 4 keep the generic kernels');
  assert.equal(arena.batchNorm(18), arena.kernels.batchNorm);
  for (const channels of [4, 16, 24, 64, 68]) {
    const rows = 37;
    const n = rows * channels;
    const [x, dy] = [filled(arena, n, rng, 2, 0.5), filled(arena, n, rng)];
    const vectors = Object.fromEntries(
      (['center', 'a', 'b', 'k1', 'k2', 'k3'] as const).map((name) => [name, Float32Array.from({ length: channels }, () => rng.normal())]),
    ) as Record<'center' | 'a' | 'b' | 'k1' | 'k2' | 'k3', Float32Array>;
    const ptr = (name: keyof typeof vectors) => arena.scratch(SLOT[name], vectors[name]);
    const unrolled = arena.batchNorm(channels);
    assert.notEqual(unrolled, arena.kernels.batchNorm, `${channels} channels get their own kernels`);
    assert.equal(arena.batchNorm(channels), unrolled, 'compiled once per channel count');
    const generic = arena.kernels.batchNorm;
    const [sumPtr, sqPtr] = [arena.scratch(SLOT.sum, new Float32Array(channels)), arena.scratch(SLOT.sq, new Float32Array(channels))];
    const sums = () => [arena.scratchView(SLOT.sum, channels).slice(), arena.scratchView(SLOT.sq, channels).slice()];

    generic.channelSums(x.byteOffset, ptr('center'), sumPtr, sqPtr, rows, channels);
    const expectedSums = sums();
    unrolled.channelSums(x.byteOffset, ptr('center'), sumPtr, sqPtr, rows, channels);
    sums().forEach((s, i) => assertSameBits(s, expectedSums[i], `channel sums ${i}, ${channels} channels`));

    for (const mode of ['plain', 'relu'] as const) {
      const [expected, actual] = [filled(arena, n, rng), filled(arena, n, rng)];
      generic.affine[mode](x.byteOffset, ptr('a'), ptr('b'), expected.byteOffset, rows, channels);
      unrolled.affine[mode](x.byteOffset, ptr('a'), ptr('b'), actual.byteOffset, rows, channels);
      assertSameBits(actual, expected, `affine ${mode}, ${channels} channels`);

      generic.gradientSums[mode](x.byteOffset, dy.byteOffset, ptr('a'), ptr('b'), ptr('center'), sumPtr, sqPtr, rows, channels);
      const expectedGradientSums = sums();
      unrolled.gradientSums[mode](x.byteOffset, dy.byteOffset, ptr('a'), ptr('b'), ptr('center'), sumPtr, sqPtr, rows, channels);
      sums().forEach((s, i) => assertSameBits(s, expectedGradientSums[i], `gradient sums ${i} ${mode}, ${channels} channels`));

      const pointers = [ptr('a'), ptr('b'), ptr('k1'), ptr('k2'), ptr('k3')] as const;
      generic.gradientInput[mode](x.byteOffset, dy.byteOffset, ...pointers, expected.byteOffset, rows, channels);
      unrolled.gradientInput[mode](x.byteOffset, dy.byteOffset, ...pointers, actual.byteOffset, rows, channels);
      assertSameBits(actual, expected, `gradient input ${mode}, ${channels} channels`);
      arena.recycle(expected);
      arena.recycle(actual);
    }
    arena.recycle(x);
    arena.recycle(dy);
  }
});
