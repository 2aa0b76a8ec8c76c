/**
 * Conv2DBackpropFilter: dw[ky, kx] = sum over output pixels of x[pixel + tap]^T dy[pixel], one
 * [Ci, P] x [P, Co] product per filter tap (P = N * Ho * Wo), run by ORT's GEMM.
 *
 * For stride 1 on large images the taps need no copies of their own: pad x once into
 * [N, Hp, Wp, Ci] (plus a zero tail) and dy into [N, Hp, Wp, Co] (zeros where no output pixel
 * is); then, flattening pixels, tap (ky, kx) reads x at flat pixel p + ky * Wp + kx wherever dy is
 * non-zero, so its operand is the contiguous window starting ky * Wp + kx pixels in, handed to
 * ORT as a view. Otherwise each tap is sliced out of the padded input inside the graph.
 *
 * The stride-1 products run over chunks of images whose padded x and dy fit in the cache, and
 * their partial filter gradients are summed: over the whole batch (tens of MB) each of the nine
 * taps streamed x and dy from memory again.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { filterGradGraph, tapGemmGraph, type ConvGeometry } from '../conv-graphs';
import { geometryKey, geometryOf } from './conv';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';
import type { ChunkFeed, ChunkedSumJob } from '../parallel/chunked-sum';

type Shape4 = [number, number, number, number];

/**
 * The padded windows also multiply the zero rows and columns of dy: 13% more work for 32x32
 * images padded by 1, 27% for 16x16, 56% for 8x8. Measured on the quick encoder's layers
 * (`npm run bench:layers`), the windows still beat slicing every tap out of the input at 16x16
 * (33 vs 58 ms for 32 -> 32 channels, batch 256) and tie at 8x8.
 */
const MAX_PADDING_OVERHEAD = 1.6;

/** Pixels of the padded input per output pixel. */
function paddingOverhead(g: ConvGeometry): number {
  const [top, left, bottom, right] = g.pads;
  return ((g.inHeight + top + bottom) * (g.inWidth + left + right)) / (g.outHeight * g.outWidth);
}

/** Copies NHWC `src` [N, H, W, C] into `dst` [N, Hp, Wp, C] at row `top`, column `left`, zeros around. */
function padInto(src: Float32Array, dst: Float32Array, n: number, h: number, w: number, c: number, hp: number, wp: number, top: number, left: number): void {
  dst.fill(0, 0, n * hp * wp * c);
  const rowLength = w * c;
  for (let image = 0; image < n; image++) {
    for (let row = 0; row < h; row++) {
      const from = (image * h + row) * rowLength;
      dst.set(src.subarray(from, from + rowLength), ((image * hp + row + top) * wp + left) * c);
    }
  }
}

/** Bytes of padded x plus dy a chunk of the stride-1 filter gradient aims at: well inside a core's share of L2 + L3. */
export const FILTER_GRAD_CHUNK_BYTES = 2 ** 20;

/** Images per chunk of the stride-1 filter gradient: as many as fit `targetBytes` of padded x and dy, at least one. */
export function filterGradChunkImages(g: ConvGeometry, targetBytes = FILTER_GRAD_CHUNK_BYTES): number {
  const [top, left, bottom, right] = g.pads;
  const bytesPerImage = (g.inHeight + top + bottom) * (g.inWidth + left + right) * (g.inChannels + g.outChannels) * 4;
  return Math.max(1, Math.min(g.batch, Math.floor(targetBytes / bytesPerImage)));
}

/** Source slots of the padded input and dy in the backend's chunked-sum runner. */
const X_SLOT = 0;
const DY_SLOT = 1;

function filterGradStride1(backend: OnnxBackend, g: ConvGeometry, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = g;
  const [top, left, bottom, right] = g.pads;
  const [hp, wp] = [inHeight + top + bottom, inWidth + left + right];
  const pixels = batch * hp * wp;
  const tail = (filterHeight - 1) * wp + (filterWidth - 1);
  const xPadded = backend.chunks.source(X_SLOT, (pixels + tail) * inChannels);
  const dyPadded = backend.chunks.source(DY_SLOT, pixels * outChannels);
  padInto(backend.float32(x), xPadded, batch, inHeight, inWidth, inChannels, hp, wp, top, left);
  xPadded.fill(0, pixels * inChannels, (pixels + tail) * inChannels);
  padInto(backend.float32(dy), dyPadded, batch, outHeight, outWidth, outChannels, hp, wp, 0, 0);
  const dwShape: Shape4 = [filterHeight, filterWidth, inChannels, outChannels];
  const job: ChunkedSumJob = { graphs: {}, chunks: [], outputName: 'dw', outputSize: tf.util.sizeFromShape(dwShape) };
  const chunk = filterGradChunkImages(g);
  for (let first = 0; first < batch; first += chunk) {
    // A chunk's windows read up to `tail` pixels into the next image (or the zero tail), where its
    // dy is zero: padded dy has no output pixel in the last rows and columns of each image.
    const chunkPixels = Math.min(chunk, batch - first) * hp * wp;
    const offset = first * hp * wp;
    const key = `conv-filter-grad-taps|${chunkPixels},${inChannels},${outChannels},${filterHeight},${filterWidth}`;
    if (job.graphs[key] === undefined) job.graphs[key] = tapGemmGraph(chunkPixels, inChannels, outChannels, filterHeight, filterWidth);
    const feeds: ChunkFeed[] = [{ name: 'dy', region: 1, offset: 0, dims: [chunkPixels, outChannels] }];
    for (let ky = 0; ky < filterHeight; ky++) {
      for (let kx = 0; kx < filterWidth; kx++) {
        feeds.push({ name: `tap_${ky * filterWidth + kx}`, region: 0, offset: (ky * wp + kx) * inChannels, dims: [chunkPixels, inChannels] });
      }
    }
    job.chunks.push({
      key,
      regions: [
        { source: 0, start: offset * inChannels, length: (chunkPixels + tail) * inChannels },
        { source: 1, start: offset * outChannels, length: chunkPixels * outChannels },
      ],
      feeds,
    });
  }
  return backend.makeTensorInfo(dwShape, 'float32', backend.chunks.sum(job, [X_SLOT, DY_SLOT]));
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
    if (g.strides[0] === 1 && g.strides[1] === 1 && paddingOverhead(g) <= MAX_PADDING_OVERHEAD) {
      return filterGradStride1(backend, g, x, dy);
    }
    const [dw] = backend.runGraph(
      `conv-filter-grad|${geometryKey(g)}`,
      () => filterGradGraph(g),
      [backend.feed('x', x), backend.feed('dy', dy)],
      [{ name: 'dw', shape: [...attrs.filterShape] }],
    );
    return dw;
  },
);
