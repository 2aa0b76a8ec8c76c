/**
 * The batch-norm passes of batchnorm-kernels.ts compiled for one channel count C (a multiple of
 * 4): every row of C floats is written out vector by vector with constant offsets, and the
 * statistics passes keep their per-channel sums in locals (registers) instead of re-reading and
 * re-writing them in memory for every row. Same arithmetic in the same order as the generic
 * kernels, so the results are bit-identical; `npx tsx bench/batchnorm.ts` times both.
 *
 * The sums run over groups of up to GROUP_VECTORS vectors (16 channels): one pass over the block
 * of rows per group, so that the sums and the per-channel vectors fit the 16 SIMD registers of
 * x86-64. The caller hands in blocks of a few thousand floats (batchnorm-train.ts), which stay
 * in L1 between the groups of a block.
 */
import { batchNormExports, type BatchNormSimd } from './batchnorm-kernels';
import { instantiate, type WasmMemory } from './wasm-api';
import { forLoop, I32, op, V128, type ValType, type WasmFunction } from './wasm-writer';

/** Vectors of 4 channels whose sums one group keeps in registers. */
const GROUP_VECTORS = 4;

/** Widest C compiled this way (larger layers take the generic kernels). */
export const MAX_UNROLLED_CHANNELS = 1024;

/** Whether C channels get kernels of their own. */
export function unrollable(channels: number): boolean {
  return channels >= 4 && channels % 4 === 0 && channels <= MAX_UNROLLED_CHANNELS;
}

/** Loads vector `v` (4 floats) of the row at local `base`. */
const vec = (base: number, v: number) => [...op.get(base), ...op.v128LoadAt(16 * v)];

/** The vector indices of each group: [0..3], [4..7], ... */
function groups(vectors: number): number[][] {
  const out: number[][] = [];
  for (let first = 0; first < vectors; first += GROUP_VECTORS) {
    out.push(Array.from({ length: Math.min(GROUP_VECTORS, vectors - first) }, (_, k) => first + k));
  }
  return out;
}

/** For each [base, rowLocal]: rowLocal = base + i (the row's address; i is its byte offset). */
function rowStarts(i: number, pairs: Array<[number, number]>): number[] {
  return pairs.flatMap(([base, row]) => [...op.get(base), ...op.get(i), ...op.i32Add, ...op.set(row)]);
}

/** `byteEnd = rows * C * 4` into local `end`, `i = 0`. */
function rowBytes(rows: number, rowStride: number, i: number, end: number): number[] {
  return [...op.get(rows), ...op.i32(rowStride), ...op.i32Mul, ...op.set(end), ...op.i32(0), ...op.set(i)];
}

/**
 * The ReLU-masked gradient of vector v: dy where x * a + b > 0, else 0 (or dy without a ReLU);
 * x already in local `xv`.
 */
function masked(relu: boolean, dyRow: number, v: number, xv: number, a: number, b: number, zero: number): number[] {
  if (!relu) return vec(dyRow, v);
  return [
    ...vec(dyRow, v),
    ...op.get(xv), ...vec(a, v), ...op.f32x4Mul, ...vec(b, v), ...op.f32x4Add, ...op.get(zero), ...op.f32x4Gt,
    ...op.v128And,
  ];
}

/** (x, center, sum, sq, rows, C): as bn_channel_sums */
function channelSums(channels: number): WasmFunction {
  const [x, center, sum, sq, rows] = [0, 1, 2, 3, 4];
  const [i, end, row, d] = [6, 7, 8, 9];
  const c = [10, 11, 12, 13];
  const s = [14, 15, 16, 17];
  const q = [18, 19, 20, 21];
  const stride = channels * 4;
  const body = groups(channels / 4).flatMap((group) => [
    ...group.flatMap((v, k) => [
      ...vec(center, v), ...op.set(c[k]),
      ...op.f32(0), ...op.f32x4Splat, ...op.tee(s[k]), ...op.set(q[k]),
    ]),
    ...rowBytes(rows, stride, i, end),
    ...forLoop(i, end, stride, [
      ...rowStarts(i, [[x, row]]),
      ...group.flatMap((v, k) => [
        ...vec(row, v), ...op.get(c[k]), ...op.f32x4Sub, ...op.set(d),
        ...op.get(s[k]), ...op.get(d), ...op.f32x4Add, ...op.set(s[k]),
        ...op.get(q[k]), ...op.get(d), ...op.get(d), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(q[k]),
      ]),
    ]),
    ...group.flatMap((v, k) => [
      ...op.get(sum), ...op.get(s[k]), ...op.v128StoreAt(16 * v),
      ...op.get(sq), ...op.get(q[k]), ...op.v128StoreAt(16 * v),
    ]),
  ]);
  return {
    name: 'bn_channel_sums',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, V128, ...c.map((): ValType => V128), ...s.map((): ValType => V128), ...q.map((): ValType => V128)],
    body,
  };
}

/** (x, a, b, out, rows, C): as affine / affine_relu */
function affine(channels: number, relu: boolean): WasmFunction {
  const [x, a, b, out, rows] = [0, 1, 2, 3, 4];
  const [i, end, xRow, outRow, zero] = [6, 7, 8, 9, 10];
  const stride = channels * 4;
  const vectors = Array.from({ length: channels / 4 }, (_, v) => v);
  return {
    name: relu ? 'affine_relu' : 'affine',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...rowBytes(rows, stride, i, end),
      ...forLoop(i, end, stride, [
        ...rowStarts(i, [[x, xRow], [out, outRow]]),
        ...vectors.flatMap((v) => [
          ...op.get(outRow),
          ...vec(xRow, v), ...vec(a, v), ...op.f32x4Mul, ...vec(b, v), ...op.f32x4Add,
          ...(relu ? [...op.get(zero), ...op.f32x4Max] : []),
          ...op.v128StoreAt(16 * v),
        ]),
      ]),
    ],
  };
}

/** (x, dy, a, b, center, sumG, sumGX, rows, C): as bn_gradient_sums(_relu) */
function gradientSums(channels: number, relu: boolean): WasmFunction {
  const [x, dy, a, b, center, sumG, sumGX, rows] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, end, xRow, dyRow, xv, gv, zero] = [9, 10, 11, 12, 13, 14, 15];
  const sg = [16, 17, 18, 19];
  const sgx = [20, 21, 22, 23];
  const stride = channels * 4;
  const body = groups(channels / 4).flatMap((group) => [
    ...group.flatMap((_, k) => [...op.f32(0), ...op.f32x4Splat, ...op.tee(sg[k]), ...op.set(sgx[k])]),
    ...rowBytes(rows, stride, i, end),
    ...forLoop(i, end, stride, [
      ...rowStarts(i, [[x, xRow], [dy, dyRow]]),
      ...group.flatMap((v, k) => [
        ...vec(xRow, v), ...op.set(xv),
        ...masked(relu, dyRow, v, xv, a, b, zero), ...op.set(gv),
        ...op.get(sg[k]), ...op.get(gv), ...op.f32x4Add, ...op.set(sg[k]),
        ...op.get(sgx[k]), ...op.get(gv), ...op.get(xv), ...vec(center, v), ...op.f32x4Sub, ...op.f32x4Mul, ...op.f32x4Add, ...op.set(sgx[k]),
      ]),
    ]),
    ...group.flatMap((v, k) => [
      ...op.get(sumG), ...op.get(sg[k]), ...op.v128StoreAt(16 * v),
      ...op.get(sumGX), ...op.get(sgx[k]), ...op.v128StoreAt(16 * v),
    ]),
  ]);
  return {
    name: relu ? 'bn_gradient_sums_relu' : 'bn_gradient_sums',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128, V128, V128, ...sg.map((): ValType => V128), ...sgx.map((): ValType => V128)],
    body: [...op.f32(0), ...op.f32x4Splat, ...op.set(zero), ...body],
  };
}

/** (x, dy, a, b, k1, k2, k3, out, rows, C): as bn_gradient_input(_relu) */
function gradientInput(channels: number, relu: boolean): WasmFunction {
  const [x, dy, a, b, k1, k2, k3, out, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, end, xRow, dyRow, outRow, xv, zero] = [10, 11, 12, 13, 14, 15, 16];
  const stride = channels * 4;
  const vectors = Array.from({ length: channels / 4 }, (_, v) => v);
  return {
    name: relu ? 'bn_gradient_input_relu' : 'bn_gradient_input',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...rowBytes(rows, stride, i, end),
      ...forLoop(i, end, stride, [
        ...rowStarts(i, [[x, xRow], [dy, dyRow], [out, outRow]]),
        ...vectors.flatMap((v) => [
          ...op.get(outRow),
          ...vec(xRow, v), ...op.set(xv),
          ...masked(relu, dyRow, v, xv, a, b, zero), ...vec(k1, v), ...op.f32x4Mul,
          ...op.get(xv), ...vec(k2, v), ...op.f32x4Mul, ...op.f32x4Add,
          ...vec(k3, v), ...op.f32x4Add,
          ...op.v128StoreAt(16 * v),
        ]),
      ]),
    ],
  };
}

/** The batch-norm kernels for C channels (see unrollable), over `memory`; their C argument is ignored. */
export function compileBatchNormForChannels(memory: WasmMemory, channels: number): BatchNormSimd {
  if (!unrollable(channels)) throw new Error(`no unrolled batch-norm kernels for ${channels} channels`);
  const functions = [
    channelSums(channels), affine(channels, false), affine(channels, true),
    gradientSums(channels, false), gradientSums(channels, true), gradientInput(channels, false), gradientInput(channels, true),
  ];
  const exports = instantiate(functions, memory);
  return batchNormExports((name) => exports[name] as (...args: number[]) => void);
}
