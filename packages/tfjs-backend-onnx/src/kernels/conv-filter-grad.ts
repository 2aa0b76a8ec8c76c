/**
 * Conv2DBackpropFilter. Where the NCHWc kernels are available it is one convolution over the
 * batch (filter-grad-by-conv.ts, the default backend option filterGradient 'convolution'); this
 * file holds the other route, 'tap-products', and the slicing used for filters smaller than
 * their stride.
 *
 * dw[ky, kx] = sum over output pixels of x[pixel + tap]^T dy[pixel], one [Ci, P] x [P, Co]
 * product per filter tap (P = N * Ho * Wo), run by ORT's GEMM.
 *
 * The taps need no copies of their own. For stride 1, pad x into [N, Hp, Wp, Ci] (plus a zero
 * tail) and dy into [N, Hp, Wp, Co] (zeros where no output pixel is); then, flattening
 * pixels, tap (ky, kx) reads x at flat pixel p + ky * Wp + kx wherever dy is non-zero, so its
 * operand is the contiguous window starting ky * Wp + kx pixels in, handed to ORT as a view.
 * For stride s, x is first split into s row phases (phase a holds padded rows s i + a), and s
 * neighbouring pixels of a row are read as one pixel of s Ci channels: tap row ky then reads phase
 * ky mod s at grid row oy + ky div s, and the filter columns s m .. s m + s - 1 are one product
 * of s Ci rows at grid column ox + m (a stride-1 window again, with a few more rows than the
 * filter has columns: 6 products of 2 Ci x Co instead of 9 of Ci x Co for 3x3 and stride 2).
 * Where the grid wastes too much work on zeros (tiny images), each tap is sliced out of the
 * padded input inside one graph instead.
 *
 * The products run over chunks of images whose x and dy windows fit in the cache (over the whole
 * batch, tens of MB, each of the nine taps streamed x and dy from memory again), shared out
 * between the main thread and the helper threads, and their partial filter gradients are summed.
 * Each thread lays out (pads, splits) the images of its own chunks, so that work is shared too.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { filterGradGraph, geometryKey, tapGemmGraph, type ConvGeometry } from '../conv-graphs';
import { geometryOf } from './conv';
import { filterGradByConv, filterGradByConvApplies } from './filter-grad-by-conv';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';
import type { ChunkFeed, ChunkRegion, ChunkedSumJob } from '../parallel/chunked-sum';
import type { RowLayout } from '../parallel/row-layout';

type Shape4 = [number, number, number, number];

/**
 * The windows also multiply the zero rows and columns of dy: 13% more work for 32x32 images
 * padded by 1, 27% for 16x16, 56% for 8x8. Measured on the quick encoder's layers
 * (`npm run bench:layers`), the windows still beat slicing every tap out of the input at 16x16
 * (33 vs 58 ms for 32 -> 32 channels, batch 256) and tie at 8x8.
 */
const MAX_PADDING_OVERHEAD = 1.6;

/**
 * The grid the windows run over: `stride` row phases of gridHeight rows by gridWidth grid pixels,
 * each grid pixel `stride` neighbouring input pixels (stride * Ci values).
 */
export interface WindowGrid {
  stride: number;
  gridHeight: number;
  gridWidth: number;
  /** products per filter row: filter columns taken `stride` at a time */
  columnGroups: number;
  /** zero grid pixels after each row phase, for the windows of the last image */
  tail: number;
}

export function windowGrid(g: ConvGeometry): WindowGrid | undefined {
  const [sh, sw] = g.strides;
  // A filter smaller than the stride reads only some phases (a 1x1 stride-2 filter one pixel in
  // four): slicing its taps out is cheaper than copying every phase.
  if (sh !== sw || g.dilations[0] !== 1 || g.dilations[1] !== 1 || g.filterHeight < sh || g.filterWidth < sw) return undefined;
  const extraRows = Math.floor((g.filterHeight - 1) / sh);
  const columnGroups = Math.ceil(g.filterWidth / sw);
  const gridHeight = g.outHeight + extraRows;
  const gridWidth = g.outWidth + columnGroups - 1;
  return { stride: sh, gridHeight, gridWidth, columnGroups, tail: extraRows * gridWidth + columnGroups - 1 };
}

/** Grid pixels per output pixel: the work the windows spend, relative to the useful work. */
function paddingOverhead(g: ConvGeometry, grid: WindowGrid): number {
  return (grid.gridHeight * grid.gridWidth) / (g.outHeight * g.outWidth);
}

/** Bytes of x windows plus dy a chunk of the filter gradient aims at: well inside a core's share of L2 + L3. */
export const FILTER_GRAD_CHUNK_BYTES = 2 ** 20;

/** Images per chunk: as many as fit `targetBytes` of x phase images and padded dy, at least one. */
export function filterGradChunkImages(g: ConvGeometry, targetBytes = FILTER_GRAD_CHUNK_BYTES): number {
  const grid = windowGrid(g);
  if (grid === undefined) return 1;
  const bytesPerImage = grid.gridHeight * grid.gridWidth * (grid.stride * grid.stride * g.inChannels + g.outChannels) * 4;
  return Math.max(1, Math.min(g.batch, Math.floor(targetBytes / bytesPerImage)));
}

function filterGradWindows(backend: OnnxBackend, g: ConvGeometry, grid: WindowGrid, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = g;
  const { stride, gridHeight, gridWidth, columnGroups, tail } = grid;
  const [top, left] = g.pads;
  const gridChannels = stride * inChannels;
  // x: row phases of gridWidth * stride pixels per row; dy: its rows on the grid, no padding
  // before them (zeros after, where no output pixel is).
  const xLayout: RowLayout = {
    height: inHeight, width: inWidth, channels: inChannels, stride, top, left,
    gridHeight, rowPixels: gridWidth * stride, tailElements: tail * gridChannels,
  };
  const dyLayout: RowLayout = {
    height: outHeight, width: outWidth, channels: outChannels, stride: 1, top: 0, left: 0,
    gridHeight, rowPixels: gridWidth, tailElements: 0,
  };
  const job: ChunkedSumJob = { graphs: {}, chunks: [], outputName: 'dw', outputSize: filterHeight * columnGroups * gridChannels * outChannels };
  const chunk = filterGradChunkImages(g);
  for (let first = 0; first < batch; first += chunk) {
    const images = Math.min(chunk, batch - first);
    // The windows of the chunk's last image read up to `tail` grid pixels past it, into zeros;
    // within an image they read into the last rows and columns, where padded dy is zero.
    const chunkPixels = images * gridHeight * gridWidth;
    const key = `conv-filter-grad-taps|${chunkPixels},${gridChannels},${outChannels},${filterHeight},${columnGroups}`;
    if (job.graphs[key] === undefined) job.graphs[key] = tapGemmGraph(chunkPixels, gridChannels, outChannels, filterHeight, columnGroups);
    // Regions 0 .. stride-1: the chunk's images in each row phase; region `stride`: their dy.
    const regions: ChunkRegion[] = Array.from({ length: stride }, (_, phase) => ({ kind: 'rows' as const, source: 0, layout: xLayout, firstImage: first, images, phase }));
    regions.push({ kind: 'rows', source: 1, layout: dyLayout, firstImage: first, images, phase: 0 });
    const feeds: ChunkFeed[] = [{ name: 'dy', region: stride, offset: 0, dims: [chunkPixels, outChannels] }];
    for (let ky = 0; ky < filterHeight; ky++) {
      for (let group = 0; group < columnGroups; group++) {
        const shift = Math.floor(ky / stride) * gridWidth + group;
        feeds.push({ name: `tap_${ky * columnGroups + group}`, region: ky % stride, offset: shift * gridChannels, dims: [chunkPixels, gridChannels] });
      }
    }
    job.chunks.push({ key, regions, feeds });
  }
  const products = backend.chunks.sum(job, [backend.float32(x), backend.float32(dy)]);
  return backend.makeTensorInfo([filterHeight, filterWidth, inChannels, outChannels], 'float32', filterFromGroups(products, g, grid));
}

/**
 * dw [kh, kw, Ci, Co] from the products [kh, columnGroups, stride * Ci, Co]: filter column
 * stride * m + b is rows b * Ci .. (b + 1) * Ci of group m (columns past kw are dropped).
 */
function filterFromGroups(products: Float32Array, g: ConvGeometry, grid: WindowGrid): Float32Array {
  if (grid.stride === 1) return products;
  const { filterHeight, filterWidth, inChannels, outChannels } = g;
  const block = inChannels * outChannels;
  const dw = new Float32Array(filterHeight * filterWidth * block);
  for (let ky = 0; ky < filterHeight; ky++) {
    for (let kx = 0; kx < filterWidth; kx++) {
      const [group, b] = [Math.floor(kx / grid.stride), kx % grid.stride];
      const from = ((ky * grid.columnGroups + group) * grid.stride + b) * block;
      dw.set(products.subarray(from, from + block), (ky * filterWidth + kx) * block);
    }
  }
  return dw;
}

export const conv2DBackpropFilter: OnnxKernel = withFallback<tf.Conv2DBackpropFilterAttrs>(
  tf.Conv2DBackpropFilter,
  ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    if (!allFloat32(x, dy)) return undefined;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, attrs.filterShape, attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const g = geometryOf(info);
    if (g === undefined) return undefined;
    if (backend.filterGradient === 'convolution' && filterGradByConvApplies(g, backend.nchwcBlock)) return filterGradByConv(backend, g, x, dy);
    const grid = windowGrid(g);
    if (grid !== undefined && paddingOverhead(g, grid) <= MAX_PADDING_OVERHEAD) return filterGradWindows(backend, g, grid, x, dy);
    const [dw] = backend.runGraph(
      `conv-filter-grad|${geometryKey(g)}`,
      () => filterGradGraph(g),
      [backend.feed('x', x), backend.feed('dy', dy)],
      [{ name: 'dw', shape: [...attrs.filterShape] }],
    );
    return dw;
  },
);
