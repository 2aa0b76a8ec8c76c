/**
 * The layout passes of the filter gradient as a convolution over the batch
 * (src/kernels/filter-grad-by-conv.ts): the WebAssembly SIMD kernels write exactly
 * what the plain loops write, for every NCHWc block size a CPU may have (4, 8, 16), and the plain
 * loops put each value where the definition says. Needs WebAssembly SIMD only, not ORT.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchConvInputSize, type ConvGeometry } from '../src/conv-graphs';
import { filterGradGroups, layoutImagesInBlocks, layoutImagesAsFilterInputs } from '../src/kernels/filter-grad-by-conv';
import { roundUp } from '../src/layout';
import { WasmArena } from '../src/simd/arena';
import { Rng } from './helpers/random';
import { filledBlock as filled } from './helpers/arena';

function geometry(batch: number, size: number, inChannels: number, outChannels: number, filter: number, stride: number, pad: number): ConvGeometry {
  const out = Math.floor((size + 2 * pad - filter) / stride) + 1;
  return {
    batch, inHeight: size, inWidth: size, inChannels, outHeight: out, outWidth: out, outChannels,
    filterHeight: filter, filterWidth: filter, strides: [stride, stride], dilations: [1, 1], pads: [pad, pad, pad, pad],
  };
}

// Whole blocks (SIMD) and a partial last block (plain loops), stride 1 and 2, padding that the
// strided convolution partly skips, output channels that fill their blocks or not; input
// channels in 2, 1, 1, 4 and 1 groups (filterGradGroups), the last 3 of them (plain loops).
const cases: ConvGeometry[] = [
  geometry(32, 6, 8, 16, 3, 1, 1),
  geometry(37, 7, 4, 24, 3, 2, 1),
  geometry(16, 5, 12, 8, 3, 1, 0),
  geometry(20, 9, 16, 32, 4, 2, 2),
  geometry(16, 6, 3, 16, 3, 1, 1),
];

test('SIMD layouts equal the plain loops for NCHWc blocks of 4, 8 and 16', () => {
  const arena = new WasmArena(64 * 2 ** 20);
  const rng = new Rng(5);
  for (const g of cases) {
    for (const block of [4, 8, 16]) {
      const x = filled(arena, g.batch * g.inHeight * g.inWidth * g.inChannels, rng);
      const dy = filled(arena, g.batch * g.outHeight * g.outWidth * g.outChannels, rng);
      const batchPadded = roundUp(g.batch, block);
      const { height: hp, width: wp } = batchConvInputSize(g);
      const xLength = g.inChannels * batchPadded * hp * wp;
      const dyLength = roundUp(g.outChannels, block) * batchPadded * g.outHeight * g.outWidth;
      const [xSimd, dySimd] = [filled(arena, xLength, rng), filled(arena, dyLength, rng)];
      const [xPlain, dyPlain] = [new Float32Array(xLength).fill(Number.NaN), new Float32Array(dyLength).fill(Number.NaN)];
      layoutImagesInBlocks(arena, x, g, block, xSimd);
      layoutImagesInBlocks(undefined, x, g, block, xPlain);
      layoutImagesAsFilterInputs(arena, dy, g, block, dySimd);
      layoutImagesAsFilterInputs(undefined, dy, g, block, dyPlain);
      const what = `batch ${g.batch}, ${g.inHeight}x${g.inWidth}x${g.inChannels} -> ${g.outChannels}, filter ${g.filterHeight}, stride ${g.strides[0]}, block ${block}`;
      assert.deepEqual(xSimd, xPlain, `images in blocks: ${what}`);
      assert.deepEqual(dySimd, dyPlain, `images as filter inputs: ${what}`);

      // The definition, at every position: x [G, Np/B, Hp, Wp, Ci/G, B]; dy [Cop/B, Np/B, Ho, Wo, B, B].
      const [top, left] = g.pads;
      for (let n = 0; n < batchPadded; n++) {
        for (let c = 0; c < g.inChannels; c++) {
          for (let row = 0; row < hp; row++) {
            for (let column = 0; column < wp; column++) {
              const [y, xc] = [row - top, column - left];
              const inside = n < g.batch && y >= 0 && y < g.inHeight && xc >= 0 && xc < g.inWidth;
              const expected = inside ? x[((n * g.inHeight + y) * g.inWidth + xc) * g.inChannels + c] : 0;
              const groups = filterGradGroups(g);
              const [group, channels] = [Math.floor(c / (g.inChannels / groups)), g.inChannels / groups];
              const at = ((((group * (batchPadded / block) + Math.floor(n / block)) * hp + row) * wp + column) * channels + c % channels) * block + (n % block);
              assert.equal(xPlain[at], expected, `x layout at image ${n}, channel ${c}, (${row}, ${column}): ${what}`);
            }
          }
        }
      }
      const pixels = g.outHeight * g.outWidth;
      for (let n = 0; n < batchPadded; n++) {
        for (let co = 0; co < roundUp(g.outChannels, block); co++) {
          for (let p = 0; p < pixels; p++) {
            const expected = n < g.batch && co < g.outChannels ? dy[(n * pixels + p) * g.outChannels + co] : 0;
            const at = (((Math.floor(co / block) * (batchPadded / block) + Math.floor(n / block)) * pixels + p) * block + (n % block)) * block + (co % block);
            assert.equal(dyPlain[at], expected, `dy layout at image ${n}, channel ${co}, pixel ${p}: ${what}`);
          }
        }
      }
      for (const array of [x, dy, xSimd, dySimd]) arena.recycle(array);
    }
  }
});
