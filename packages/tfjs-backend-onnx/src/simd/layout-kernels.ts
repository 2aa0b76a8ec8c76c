/**
 * Layout passes in WebAssembly SIMD for the filter gradient computed as a convolution over the
 * batch (kernels/conv-filter-grad.ts): images become the channels of that convolution, in blocks
 * of B images (B = the NCHWc block, 8 or 16; a multiple of 4).
 *
 * - batch_blocks_row: C channels (a multiple of 4) of one row of W pixels of B images (NHWC,
 *   pixels srcPixelStride bytes apart) -> the B images' values side by side at each pixel and
 *   channel: pixel x, channel c at byte dst + x * pixelStride + c * plane. 4 x 4 transposes of
 *   (image, channel) tiles.
 * - row_blocks: for P pixels, the B floats at a pixel of each of B images, one after another:
 *   dst[p][k][0..B) = src + p * pixelStride + k * imageStride (bytes).
 *
 * And two run copies for the input gradient of a strided convolution (kernels/conv.ts):
 * spread_runs and scatter_runs.
 */
import { forLoop, I32, op, V128, type WasmFunction } from './wasm-writer';

/**
 * (src, dst, width, channels, imageStride, plane, block, pixelStride, srcPixelStride): byte
 * offsets and strides (plane: the channel stride in dst); counts in pixels, channels, images
 */
function batchBlocksRow(): WasmFunction {
  const [src, dst, width, channels, imageStride, plane, block, pixelStride, srcPixelStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [px, cq, cqEnd, kq, kqEnd, srcPixel, dstPixel, tile, at, r0, r1, r2, r3, t0, t1, t2, t3] = Array.from({ length: 17 }, (_, i) => 9 + i);
  // cq: byte offset of 4 channels within a pixel (channel cq / 4); kq: image (kq / 4) times 4 bytes,
  // which is also the byte offset of that image's lane in a block of B floats.
  const loads = [r0, r1, r2, r3].flatMap((r, i) => [
    ...op.get(tile), ...op.get(imageStride), ...op.i32(i), ...op.i32Mul, ...op.i32Add, ...op.v128Load, ...op.set(r),
  ]);
  const stores = [0, 1, 2, 3].flatMap((j) => {
    // channel j of the tile: lane j of r0..r3, from the interleaved pairs t0..t3
    const pair = j < 2 ? [t0, t2] : [t1, t3];
    const lanes: [number, number, number, number] = j % 2 === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7];
    return [
      ...op.get(at), ...op.get(plane), ...op.i32(j), ...op.i32Mul, ...op.i32Add,
      ...op.get(pair[0]), ...op.get(pair[1]), ...op.i32x4Shuffle(lanes),
      ...op.v128Store,
    ];
  });
  return {
    name: 'batch_blocks_row',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128],
    body: [
      ...op.get(channels), ...op.i32(2), ...op.i32Shl, ...op.set(cqEnd),
      ...op.get(block), ...op.i32(2), ...op.i32Shl, ...op.set(kqEnd),
      ...op.i32(0), ...op.set(px),
      ...forLoop(px, width, 1, [
        ...op.get(src), ...op.get(px), ...op.get(srcPixelStride), ...op.i32Mul, ...op.i32Add, ...op.set(srcPixel),
        ...op.get(dst), ...op.get(px), ...op.get(pixelStride), ...op.i32Mul, ...op.i32Add, ...op.set(dstPixel),
        ...op.i32(0), ...op.set(cq),
        ...forLoop(cq, cqEnd, 16, [
          ...op.i32(0), ...op.set(kq),
          ...forLoop(kq, kqEnd, 16, [
            ...op.get(srcPixel), ...op.get(cq), ...op.i32Add, ...op.get(kq), ...op.i32(2), ...op.i32ShrU, ...op.get(imageStride), ...op.i32Mul, ...op.i32Add, ...op.set(tile),
            ...loads,
            ...op.get(r0), ...op.get(r1), ...op.i32x4Shuffle([0, 4, 1, 5]), ...op.set(t0),
            ...op.get(r0), ...op.get(r1), ...op.i32x4Shuffle([2, 6, 3, 7]), ...op.set(t1),
            ...op.get(r2), ...op.get(r3), ...op.i32x4Shuffle([0, 4, 1, 5]), ...op.set(t2),
            ...op.get(r2), ...op.get(r3), ...op.i32x4Shuffle([2, 6, 3, 7]), ...op.set(t3),
            ...op.get(dstPixel), ...op.get(kq), ...op.i32Add, ...op.get(cq), ...op.i32(2), ...op.i32ShrU, ...op.get(plane), ...op.i32Mul, ...op.i32Add, ...op.set(at),
            ...stores,
          ]),
        ]),
      ]),
    ],
  };
}

/** Copies `bytes` (a local, a multiple of 16) from the address in local `from` to that in `to`; q counts. */
function copyVectors(to: number, from: number, q: number, bytes: number): number[] {
  return [
    ...op.i32(0), ...op.set(q),
    ...forLoop(q, bytes, 16, [
      ...op.get(to), ...op.get(q), ...op.i32Add,
      ...op.get(from), ...op.get(q), ...op.i32Add, ...op.v128Load,
      ...op.v128Store,
    ]),
  ];
}

/** (src, dst, pixels, pixelStride, imageStride, block) */
function rowBlocks(): WasmFunction {
  const [src, dst, pixels, pixelStride, imageStride, block] = [0, 1, 2, 3, 4, 5];
  const [p, k, q, qEnd, from, to, srcPixel] = [6, 7, 8, 9, 10, 11, 12];
  return {
    name: 'row_blocks',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32],
    body: [
      ...op.get(block), ...op.i32(2), ...op.i32Shl, ...op.set(qEnd),
      ...op.get(dst), ...op.set(to),
      ...op.get(src), ...op.set(srcPixel),
      ...op.i32(0), ...op.set(p),
      ...forLoop(p, pixels, 1, [
        ...op.get(srcPixel), ...op.set(from),
        ...op.i32(0), ...op.set(k),
        ...forLoop(k, block, 1, [
          ...copyVectors(to, from, q, qEnd),
          ...op.get(to), ...op.get(qEnd), ...op.i32Add, ...op.set(to),
          ...op.get(from), ...op.get(imageStride), ...op.i32Add, ...op.set(from),
        ]),
        ...op.get(srcPixel), ...op.get(pixelStride), ...op.i32Add, ...op.set(srcPixel),
      ]),
    ],
  };
}

/** Local indices of the row and run loops of rowsOfRuns. */
interface RunLoopLocals {
  src: number;
  dst: number;
  rows: number;
  runs: number;
  srcRowStride: number;
  dstRowStride: number;
  r: number;
  k: number;
  from: number;
  to: number;
}

/**
 * For each row r: from = src + r * srcRowStride and to = dst + r * dstRowStride, then `perRun`
 * `runs` times (it copies one run and moves from and to on), then `afterRow`.
 */
function rowsOfRuns(l: RunLoopLocals, perRun: number[], afterRow: number[] = []): number[] {
  return [
    ...op.i32(0), ...op.set(l.r),
    ...forLoop(l.r, l.rows, 1, [
      ...op.get(l.src), ...op.get(l.r), ...op.get(l.srcRowStride), ...op.i32Mul, ...op.i32Add, ...op.set(l.from),
      ...op.get(l.dst), ...op.get(l.r), ...op.get(l.dstRowStride), ...op.i32Mul, ...op.i32Add, ...op.set(l.to),
      ...op.i32(0), ...op.set(l.k),
      ...forLoop(l.k, l.runs, 1, perRun),
      ...afterRow,
    ]),
  ];
}

/**
 * (src, dst, rows, runs, copyBytes, gapBytes, srcRunStride, srcRowStride, dstRowStride, tailBytes):
 * for each row, `runs` runs of copyBytes (a multiple of 16) read every srcRunStride bytes and
 * written one after another in dst, each followed by gapBytes of zeros, then tailBytes of zeros
 * (multiples of 16 too). Spreads the phases of a polyphase input gradient into the image.
 */
function spreadRuns(): WasmFunction {
  const [src, dst, rows, runs, copyBytes, gapBytes, srcRunStride, srcRowStride, dstRowStride, tailBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [r, k, q, from, to, zero] = [10, 11, 12, 13, 14, 15];
  const zeros = (bytes: number) => [
    ...op.i32(0), ...op.set(q),
    ...forLoop(q, bytes, 16, [...op.get(to), ...op.get(q), ...op.i32Add, ...op.get(zero), ...op.v128Store]),
    ...op.get(to), ...op.get(bytes), ...op.i32Add, ...op.set(to),
  ];
  return {
    name: 'spread_runs',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...rowsOfRuns({ src, dst, rows, runs, srcRowStride, dstRowStride, r, k, from, to }, [
        ...copyVectors(to, from, q, copyBytes),
        ...op.get(to), ...op.get(copyBytes), ...op.i32Add, ...op.set(to),
        ...op.get(from), ...op.get(srcRunStride), ...op.i32Add, ...op.set(from),
        ...zeros(gapBytes),
      ], zeros(tailBytes)),
    ],
  };
}

/**
 * (src, dst, rows, runs, copyBytes, srcRunStride, dstRunStride, srcRowStride, dstRowStride): for
 * each row, `runs` runs of copyBytes (a multiple of 16), read every srcRunStride bytes and written
 * every dstRunStride bytes; nothing else in dst is touched. Scatters one output phase of a strided
 * convolution's input gradient into every s-th pixel of the image.
 */
function scatterRuns(): WasmFunction {
  const [src, dst, rows, runs, copyBytes, srcRunStride, dstRunStride, srcRowStride, dstRowStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, k, q, from, to] = [9, 10, 11, 12, 13];
  return {
    name: 'scatter_runs',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32],
    body: rowsOfRuns({ src, dst, rows, runs, srcRowStride, dstRowStride, r, k, from, to }, [
      ...copyVectors(to, from, q, copyBytes),
      ...op.get(to), ...op.get(dstRunStride), ...op.i32Add, ...op.set(to),
      ...op.get(from), ...op.get(srcRunStride), ...op.i32Add, ...op.set(from),
    ]),
  };
}

export function layoutFunctions(): WasmFunction[] {
  return [batchBlocksRow(), rowBlocks(), spreadRuns(), scatterRuns()];
}

export interface LayoutSimd {
  batchBlocksRow: (
    src: number, dst: number, width: number, channels: number, imageStride: number, plane: number, block: number,
    pixelStride: number, srcPixelStride: number,
  ) => void;
  rowBlocks: (src: number, dst: number, pixels: number, pixelStride: number, imageStride: number, block: number) => void;
  spreadRuns: (
    src: number, dst: number, rows: number, runs: number, copyBytes: number, gapBytes: number,
    srcRunStride: number, srcRowStride: number, dstRowStride: number, tailBytes: number,
  ) => void;
  scatterRuns: (
    src: number, dst: number, rows: number, runs: number, copyBytes: number,
    srcRunStride: number, dstRunStride: number, srcRowStride: number, dstRowStride: number,
  ) => void;
}

export function layoutExports(fn: (name: string) => (...args: number[]) => void): LayoutSimd {
  return { batchBlocksRow: fn('batch_blocks_row'), rowBlocks: fn('row_blocks'), spreadRuns: fn('spread_runs'), scatterRuns: fn('scatter_runs') };
}

