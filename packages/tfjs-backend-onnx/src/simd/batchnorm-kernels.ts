/**
 * Batch-norm passes in WebAssembly SIMD over row-major [rows, C] data (C = channels, the last
 * axis of an NHWC tensor), with per-channel vectors of C floats. Training-mode batch norm with an
 * optional ReLU becomes one statistics pass and one output pass forward, two passes backward;
 * written with separate tf ops it is about 7 passes forward and 18 backward.
 */
import { address, F32, I32, load, op, rowLoop, store, V128, vectorThenTail, type WasmFunction } from './wasm-writer';

const arith = (simd: boolean) => ({
  add: simd ? op.f32x4Add : op.f32Add,
  sub: simd ? op.f32x4Sub : op.f32Sub,
  mul: simd ? op.f32x4Mul : op.f32Mul,
});

/** Sets C floats at `base` to zero; `zero` is a v128 local holding zeros. */
function zeroVector(base: number, j: number, end: number, count: number, zero: number): number[] {
  return vectorThenTail(j, end, count, (simd) => [...address(base, j), ...(simd ? op.get(zero) : op.f32(0)), ...store(simd)]);
}

/**
 * The gradient reaching the batch norm's output: dy, or with a ReLU after it dy where
 * x * a + b > 0 and 0 elsewhere (the ReLU's input recomputed from x instead of being stored).
 */
function maskedGradient(relu: boolean, simd: boolean, dyRow: number, j: number, x: number, a: number, b: number, zero: number): number[] {
  if (!relu) return load(dyRow, j, simd);
  const { add, mul } = arith(simd);
  const z = [...op.get(x), ...load(a, j, simd), ...mul, ...load(b, j, simd), ...add];
  return simd
    ? [...load(dyRow, j, true), ...z, ...op.get(zero), ...op.f32x4Gt, ...op.v128And]
    : [...load(dyRow, j, false), ...op.f32(0), ...z, ...op.f32(0), ...op.f32Gt, ...op.select];
}

/**
 * sum[c] = sum over rows of (x[r, c] - center[c]), sq[c] = the same of its square, in float32:
 * the caller passes blocks of rows small enough for float32 and adds the blocks in float64.
 * (x, center, sum, sq, rows, C)
 */
function channelSums(): WasmFunction {
  const [x, center, sum, sq, rows, C] = [0, 1, 2, 3, 4, 5];
  const [r, j, end, row, xRow, dv, zero, df] = [6, 7, 8, 9, 10, 11, 12, 13];
  return {
    name: 'bn_channel_sums',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128, V128, F32],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...zeroVector(sum, j, end, C, zero),
      ...zeroVector(sq, j, end, C, zero),
      ...rowLoop(r, rows, C, row, [[x, xRow]], vectorThenTail(j, end, C, (simd) => {
        const { add, sub, mul } = arith(simd);
        const d = simd ? dv : df;
        return [
          ...load(xRow, j, simd), ...load(center, j, simd), ...sub, ...op.set(d),
          ...address(sum, j), ...load(sum, j, simd), ...op.get(d), ...add, ...store(simd),
          ...address(sq, j), ...load(sq, j, simd), ...op.get(d), ...op.get(d), ...mul, ...add, ...store(simd),
        ];
      })),
    ],
  };
}

/** out = x * a + b, then max(., 0) when `relu`, with a, b per channel: (x, a, b, out, rows, C) */
function affine(relu: boolean): WasmFunction {
  const [x, a, b, out, rows, C] = [0, 1, 2, 3, 4, 5];
  const [r, j, end, row, xRow, outRow, zero] = [6, 7, 8, 9, 10, 11, 12];
  return {
    name: relu ? 'affine_relu' : 'affine',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...rowLoop(r, rows, C, row, [[x, xRow], [out, outRow]], vectorThenTail(j, end, C, (simd) => {
        const { add, mul } = arith(simd);
        const clamp = !relu ? [] : simd ? [...op.get(zero), ...op.f32x4Max] : [...op.f32(0), ...op.f32Max];
        return [...address(outRow, j), ...load(xRow, j, simd), ...load(a, j, simd), ...mul, ...load(b, j, simd), ...add, ...clamp, ...store(simd)];
      })),
    ],
  };
}

/**
 * With g the (ReLU-masked) output gradient: sumG[c] = sum of g, sumGX[c] = sum of g * (x - center).
 * Float32 per call, as channelSums. (x, dy, a, b, center, sumG, sumGX, rows, C)
 */
function gradientSums(relu: boolean): WasmFunction {
  const [x, dy, a, b, center, sumG, sumGX, rows, C] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, j, end, row, xRow, dyRow, xv, gv, zero, xf, gf] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  return {
    name: relu ? 'bn_gradient_sums_relu' : 'bn_gradient_sums',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128, F32, F32],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...zeroVector(sumG, j, end, C, zero),
      ...zeroVector(sumGX, j, end, C, zero),
      ...rowLoop(r, rows, C, row, [[x, xRow], [dy, dyRow]], vectorThenTail(j, end, C, (simd) => {
        const { add, sub, mul } = arith(simd);
        const [xl, gl] = simd ? [xv, gv] : [xf, gf];
        return [
          ...load(xRow, j, simd), ...op.set(xl),
          ...maskedGradient(relu, simd, dyRow, j, xl, a, b, zero), ...op.set(gl),
          ...address(sumG, j), ...load(sumG, j, simd), ...op.get(gl), ...add, ...store(simd),
          ...address(sumGX, j), ...load(sumGX, j, simd),
          ...op.get(gl), ...op.get(xl), ...load(center, j, simd), ...sub, ...mul, ...add, ...store(simd),
        ];
      })),
    ],
  };
}

/** dx = g * k1 + x * k2 + k3 per channel, g the (ReLU-masked) dy: (x, dy, a, b, k1, k2, k3, out, rows, C) */
function gradientInput(relu: boolean): WasmFunction {
  const [x, dy, a, b, k1, k2, k3, out, rows, C] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [r, j, end, row, xRow, dyRow, outRow, xv, zero, xf] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  return {
    name: relu ? 'bn_gradient_input_relu' : 'bn_gradient_input',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, V128, V128, F32],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...rowLoop(r, rows, C, row, [[x, xRow], [dy, dyRow], [out, outRow]], vectorThenTail(j, end, C, (simd) => {
        const { add, mul } = arith(simd);
        const xl = simd ? xv : xf;
        return [
          ...address(outRow, j),
          ...load(xRow, j, simd), ...op.set(xl),
          ...maskedGradient(relu, simd, dyRow, j, xl, a, b, zero), ...load(k1, j, simd), ...mul,
          ...op.get(xl), ...load(k2, j, simd), ...mul, ...add,
          ...load(k3, j, simd), ...add,
          ...store(simd),
        ];
      })),
    ],
  };
}

/** The batch-norm functions, to compile with the other SIMD kernels. */
export function batchNormFunctions(): WasmFunction[] {
  return [channelSums(), affine(false), affine(true), gradientSums(false), gradientSums(true), gradientInput(false), gradientInput(true)];
}

type Exported = (...args: number[]) => void;

/** The exported batch-norm kernels (pointers are byte offsets, counts in floats). */
export interface BatchNormSimd {
  channelSums: (x: number, center: number, sum: number, sq: number, rows: number, channels: number) => void;
  /** indexed by whether a ReLU follows */
  affine: Record<'plain' | 'relu', (x: number, a: number, b: number, out: number, rows: number, channels: number) => void>;
  gradientSums: Record<'plain' | 'relu', (x: number, dy: number, a: number, b: number, center: number, sumG: number, sumGX: number, rows: number, channels: number) => void>;
  gradientInput: Record<'plain' | 'relu', (x: number, dy: number, a: number, b: number, k1: number, k2: number, k3: number, out: number, rows: number, channels: number) => void>;
}

export function batchNormExports(fn: (name: string) => Exported): BatchNormSimd {
  return {
    channelSums: fn('bn_channel_sums'),
    affine: { plain: fn('affine'), relu: fn('affine_relu') },
    gradientSums: { plain: fn('bn_gradient_sums'), relu: fn('bn_gradient_sums_relu') },
    gradientInput: { plain: fn('bn_gradient_input'), relu: fn('bn_gradient_input_relu') },
  };
}
