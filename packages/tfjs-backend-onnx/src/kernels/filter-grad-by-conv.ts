/**
 * Conv2DBackpropFilter as one convolution over the batch. With the images as channels,
 *   dw[ky, kx, ci, co] = sum over n, oy, ox of x[n, s oy + ky - top, s ox + kx - left, ci] dy[n, oy, ox, co]
 * is a convolution whose input channels are the N images and whose filter is dy (Co filters of
 * N channels and Ho x Wo taps). Its input is x padded, with each row of pixels read as one row of
 * Wp * Ci values (pixel, then channel, as NHWC keeps them): the filter's taps are dilated by s
 * rows and by s * Ci values along a row, so that output value kx * Ci + ci of output row ky is
 * dw[ky, kx, ci]. The output is thus kh rows of kw * Ci values, each a vector of the Co output
 * channels: [kh, kw, Ci, Co], dw itself.
 *
 * Why rows of Wp * Ci values rather than one image of Wp values per channel (the input's channels
 * as the convolution's batch, an earlier version of this route): ORT's NCHWc kernel reads its
 * whole filter (here all of dy) once for every few output values of a row. With a batch of Ci
 * images of 3 x 3 outputs, it streamed dy from memory Ci * kh times; with rows of kw * Ci outputs,
 * kh times per group of outputs the kernel keeps in registers. The same sums, in the same order,
 * so the same bits; `npm run bench:layers` gives the times.
 *
 * The input channels are split into G groups (filterGradGroups), the convolution's batch: ORT
 * shares its work out by output rows, and kh = 3 rows (of one block of 16 output channels) left
 * one of two threads idle a third of the time. G groups give it 3 G rows.
 *
 * It needs the images interleaved: x as [G, N/B, Hp, Wp, Ci/G, B] (B images side by side at each
 * channel of each pixel, zero padded) and dy as [Co/B, N/B, Ho, Wo, B images, B channels]. Both
 * layout passes are WebAssembly SIMD (simd/layout-kernels.ts) where the tensors lie in the arena,
 * with plain loops for the rest (a last block of fewer than B images, channel counts not a
 * multiple of 4 or of B, no arena).
 */
import type * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { batchConvInputSize, filterGradConvGraph, geometryKey, type ConvGeometry } from '../conv-graphs';
import { roundUp } from '../layout';
import type { OrtRuntime } from '../runtime';
import type { KernelMemory } from '../simd/arena';

/**
 * Whether this route handles `g` with NCHWc block `block`. Not for a filter smaller than its
 * stride (the 1x1 stride-2 shortcut): the layouts would copy every pixel for a convolution that
 * reads one in four, and slicing those pixels out is 2-3 times faster (measured on the quick
 * encoder's shortcuts, batch 128 and 256).
 */
export function filterGradByConvApplies(g: ConvGeometry, block: number): boolean {
  return block >= 4 && block % 4 === 0 && g.dilations[0] === 1 && g.dilations[1] === 1
    && g.filterHeight >= g.strides[0] && g.filterWidth >= g.strides[1];
}

/**
 * Groups of input channels of the filter gradient of `g`: 4 (or 2) where each group keeps a
 * multiple of 4 channels (the SIMD layout's unit), else 1.
 */
export function filterGradGroups(g: ConvGeometry): number {
  for (const groups of [4, 2]) if (g.inChannels % (4 * groups) === 0) return groups;
  return 1;
}

/**
 * x [N, H, W, Ci] -> out [G, Np/B, Hp, Wp, Ci/G, B] (G = filterGradGroups(g)), zeros where no
 * image or pixel is. Only the padding is zeroed, not all of out first, which would be one more
 * pass over the whole layout.
 */
export function layoutImagesInBlocks(arena: KernelMemory | undefined, x: Float32Array, g: ConvGeometry, block: number, out: Float32Array): void {
  const { batch, inHeight, inWidth, inChannels } = g;
  const [top, left] = g.pads;
  const padded = batchConvInputSize(g);
  const groups = filterGradGroups(g);
  const channels = inChannels / groups;
  const simd = arena !== undefined && arena.contains(x) && arena.contains(out) && channels % 4 === 0 ? arena.kernels : undefined;
  const zero = (from: number, length: number): void => {
    if (length <= 0) return;
    if (simd !== undefined) simd.fill(out.byteOffset + 4 * from, length, 0);
    else out.fill(0, from, from + length);
  };
  const [firstColumn, lastColumn] = [Math.max(0, -left), Math.min(inWidth, padded.width - left)];
  const imageSize = inHeight * inWidth * inChannels;
  const pixelStride = channels * block;
  const rowLength = padded.width * pixelStride;
  const blockLength = padded.height * rowLength;
  const groupLength = (roundUp(batch, block) / block) * blockLength;
  // Each row of B images is read once for all groups (a group per pass over x read every cache line of it).
  for (let blockStart = 0; blockStart < batch; blockStart += block) {
    const images = Math.min(block, batch - blockStart);
    for (let group = 0; group < groups; group++) {
      // a last block of fewer than B images: its missing images' lanes are zeros
      if (images < block) zero(group * groupLength + (blockStart / block) * blockLength, blockLength);
    }
    for (let row = 0; row < padded.height; row++) {
      const y = row - top;
      for (let group = 0; group < groups; group++) {
        const rowOffset = group * groupLength + (blockStart / block) * blockLength + row * rowLength;
        if (y < 0 || y >= inHeight || lastColumn <= firstColumn) {
          if (images === block) zero(rowOffset, rowLength);
          continue;
        }
        const [before, after] = [(firstColumn + left) * pixelStride, (lastColumn + left) * pixelStride];
        if (images === block) {
          zero(rowOffset, before);
          zero(rowOffset + after, rowLength - after);
        }
        const src = ((blockStart * inHeight + y) * inWidth + firstColumn) * inChannels + group * channels;
        const dst = rowOffset + before;
        if (simd !== undefined && images === block) {
          simd.layout.batchBlocksRow(
            x.byteOffset + 4 * src, out.byteOffset + 4 * dst, lastColumn - firstColumn, channels, 4 * imageSize, 4 * block, block,
            4 * pixelStride, 4 * inChannels,
          );
          continue;
        }
        for (let k = 0; k < images; k++) {
          for (let column = 0; column < lastColumn - firstColumn; column++) {
            const from = src + k * imageSize + column * inChannels;
            const to = dst + column * pixelStride + k;
            for (let c = 0; c < channels; c++) out[to + c * block] = x[from + c];
          }
        }
      }
    }
  }
}

/** dy [N, Ho, Wo, Co] -> out [Cop/B, Np/B, Ho, Wo, B images, B channels], zeros where no image or channel is. */
export function layoutImagesAsFilterInputs(arena: KernelMemory | undefined, dy: Float32Array, g: ConvGeometry, block: number, out: Float32Array): void {
  const { batch, outHeight, outWidth, outChannels } = g;
  const pixels = outHeight * outWidth;
  const blocks = roundUp(batch, block) / block;
  const simd = arena !== undefined && arena.contains(dy) && arena.contains(out) ? arena.kernels : undefined;
  if (batch % block !== 0 || outChannels % block !== 0) out.fill(0);
  const imageSize = pixels * outChannels;
  for (let channelBlock = 0; channelBlock < roundUp(outChannels, block) / block; channelBlock++) {
    const channels = Math.min(block, outChannels - channelBlock * block);
    for (let blockIndex = 0; blockIndex < blocks; blockIndex++) {
      const images = Math.min(block, batch - blockIndex * block);
      const src = blockIndex * block * imageSize + channelBlock * block;
      const dst = (channelBlock * blocks + blockIndex) * pixels * block * block;
      if (simd !== undefined && images === block && channels === block) {
        simd.layout.rowBlocks(dy.byteOffset + 4 * src, out.byteOffset + 4 * dst, pixels, 4 * outChannels, 4 * imageSize, block);
        continue;
      }
      for (let p = 0; p < pixels; p++) {
        for (let k = 0; k < images; k++) {
          const from = src + k * imageSize + p * outChannels;
          const to = dst + (p * block + k) * block;
          for (let c = 0; c < channels; c++) out[to + c] = dy[from + c];
        }
      }
    }
  }
}

/** The layouts' buffers: x with the images as channels, dy as the filter (see computeFilterGradByConv). */
export interface FilterGradScratch {
  xb: Float32Array;
  wb: Float32Array;
}

/** Floats of each scratch buffer of the filter gradient of `g` with NCHWc block `block`. */
export function filterGradScratchLengths(g: ConvGeometry, block: number): { xb: number; wb: number } {
  const batchPadded = roundUp(g.batch, block);
  const padded = batchConvInputSize(g);
  return {
    xb: g.inChannels * batchPadded * padded.height * padded.width,
    wb: roundUp(g.outChannels, block) * batchPadded * g.outHeight * g.outWidth,
  };
}

/**
 * dw [kh, kw, Ci, Co] of the forward convolution `g` (see filterGradByConvApplies) from the
 * values of x and dy, written into `dw`, with the layouts in `scratch` (of filterGradScratchLengths).
 * Free of tfjs, so that the background thread (parallel/background-worker.ts) runs it too.
 */
export function computeFilterGradByConv(
  ort: OrtRuntime, arena: KernelMemory | undefined, { xb, wb }: FilterGradScratch, g: ConvGeometry, block: number,
  x: Float32Array, dy: Float32Array, dw: Float32Array,
): void {
  const { inChannels, outChannels, outHeight, outWidth, filterHeight, filterWidth } = g;
  const batchPadded = roundUp(g.batch, block);
  const padded = batchConvInputSize(g);
  const groups = filterGradGroups(g);
  const channels = inChannels / groups;
  layoutImagesInBlocks(arena, x, g, block, xb);
  layoutImagesAsFilterInputs(arena, dy, g, block, wb);
  // one group writes dw itself; G groups write [G, kh, kw, Ci/G, Co], rearranged below
  const into = groups === 1 ? dw : new Float32Array(dw.length);
  const [out] = ort.run(
    `conv-filter-grad-by-conv|${block}|${geometryKey(g)}`,
    () => filterGradConvGraph(g, block, batchPadded, groups),
    [
      { name: 'xb', data: xb, dims: [groups, batchPadded, padded.height, padded.width * channels] },
      { name: 'wb', data: wb, dims: [roundUp(outChannels, block), batchPadded, outHeight, outWidth] },
    ],
    ['dw'],
    true,
    [into],
  ) as Float32Array[];
  if (groups === 1) {
    // ORT wrote into dw, except on a route that hands back its own array
    if (out !== dw) dw.set(out);
    return;
  }
  const run = channels * outChannels;
  for (let group = 0; group < groups; group++) {
    for (let tap = 0; tap < filterHeight * filterWidth; tap++) {
      const from = (group * filterHeight * filterWidth + tap) * run;
      dw.set(out.subarray(from, from + run), (tap * groups + group) * run);
    }
  }
}

/**
 * The kernel: on the background thread when the backend has one (the tensor's values arrive when
 * first read, see OnnxBackend), else here.
 */
export function filterGradByConv(backend: OnnxBackend, g: ConvGeometry, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const shape = [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
  const dw = backend.output(shape);
  const [xs, dys] = [backend.float32(x), backend.float32(dy)];
  const block = backend.nchwcBlock;
  if (backend.background?.filterGradByConv(g, block, xs, dys, dw) !== true) {
    const lengths = filterGradScratchLengths(g, block);
    const scratch = { xb: backend.pool.take(lengths.xb), wb: backend.pool.take(lengths.wb) };
    try {
      computeFilterGradByConv(backend.ort, backend.arena, scratch, g, block, xs, dys, dw);
    } finally {
      backend.pool.recycle(scratch.xb);
      backend.pool.recycle(scratch.wb);
    }
  }
  return backend.makeTensorInfo(shape, 'float32', dw);
}
