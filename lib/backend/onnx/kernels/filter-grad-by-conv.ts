/**
 * Conv2DBackpropFilter as one convolution over the batch. With the images as channels,
 *   dw[ky, kx, ci, co] = sum over n, oy, ox of x[n, s oy + ky - top, s ox + kx - left, ci] dy[n, oy, ox, co]
 * is a convolution whose "batch" is Ci, whose input channels are the N images, whose filter is dy
 * (Co filters of N channels and Ho x Wo taps, dilated by the forward stride s) and whose output is
 * the kh x kw filter. ORT's NCHWc convolution runs it on every core at 110-220 GFLOP/s on the
 * quick encoder's layers, 2-3 times the per-tap matrix products (conv-filter-grad.ts).
 *
 * It needs the images interleaved: x as [Ci, N/B, Hp, Wp, B] (B images side by side at each pixel
 * of each channel, zero padded) and dy as [Co/B, N/B, Ho, Wo, B images, B channels]. Both layout
 * passes are WebAssembly SIMD (simd/layout-kernels.ts) where the tensors lie in the arena, with
 * plain loops for the rest (a last block of fewer than B images, channel counts not a multiple
 * of 4 or of B, no arena).
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

/** x [N, H, W, Ci] -> out [Ci, Np/B, Hp, Wp, B], zeros where no image or pixel is. */
export function layoutImagesAsChannels(arena: KernelMemory | undefined, x: Float32Array, g: ConvGeometry, block: number, out: Float32Array): void {
  const { batch, inHeight, inWidth, inChannels } = g;
  const [top, left] = g.pads;
  const padded = batchConvInputSize(g);
  const batchPadded = roundUp(batch, block);
  const plane = batchPadded * padded.height * padded.width;
  const simd = arena !== undefined && arena.contains(x) && arena.contains(out) && inChannels % 4 === 0 ? arena.kernels : undefined;
  if (simd !== undefined) simd.fill(out.byteOffset, out.length, 0);
  else out.fill(0);
  const [firstColumn, lastColumn] = [Math.max(0, -left), Math.min(inWidth, padded.width - left)];
  if (lastColumn <= firstColumn) return;
  const imageSize = inHeight * inWidth * inChannels;
  for (let blockStart = 0; blockStart < batch; blockStart += block) {
    const images = Math.min(block, batch - blockStart);
    const blockIndex = blockStart / block;
    for (let y = 0; y < inHeight; y++) {
      const row = y + top;
      if (row < 0 || row >= padded.height) continue;
      const src = (blockStart * inHeight + y) * inWidth * inChannels + firstColumn * inChannels;
      const dst = ((blockIndex * padded.height + row) * padded.width + firstColumn + left) * block;
      if (simd !== undefined && images === block) {
        simd.layout.batchBlocksRow(x.byteOffset + 4 * src, out.byteOffset + 4 * dst, lastColumn - firstColumn, inChannels, 4 * imageSize, 4 * plane, block);
        continue;
      }
      for (let k = 0; k < images; k++) {
        for (let column = 0; column < lastColumn - firstColumn; column++) {
          const from = src + k * imageSize + column * inChannels;
          const to = dst + column * block + k;
          for (let c = 0; c < inChannels; c++) out[c * plane + to] = x[from + c];
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
  const { inChannels, outChannels, filterHeight, filterWidth, outHeight, outWidth } = g;
  const batchPadded = roundUp(g.batch, block);
  const padded = batchConvInputSize(g);
  layoutImagesAsChannels(arena, x, g, block, xb);
  layoutImagesAsFilterInputs(arena, dy, g, block, wb);
  const [y] = ort.run(
    `conv-filter-grad-by-conv|${block}|${geometryKey(g)}`,
    () => filterGradConvGraph(g, block, batchPadded),
    [
      { name: 'xb', data: xb, dims: [inChannels, batchPadded, padded.height, padded.width] },
      { name: 'wb', data: wb, dims: [roundUp(outChannels, block), batchPadded, outHeight, outWidth] },
    ],
    ['y'],
    true,
  ) as Float32Array[];
  // y [Ci, kh, kw, Co] -> dw [kh, kw, Ci, Co]
  const taps = filterHeight * filterWidth;
  for (let c = 0; c < inChannels; c++) {
    for (let t = 0; t < taps; t++) dw.set(y.subarray((c * taps + t) * outChannels, (c * taps + t + 1) * outChannels), (t * inChannels + c) * outChannels);
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
