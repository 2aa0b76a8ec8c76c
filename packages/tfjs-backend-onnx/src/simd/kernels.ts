/**
 * Element-wise kernels in WebAssembly SIMD (4 floats per instruction), operating on arrays inside
 * one WebAssembly.Memory. Pointers are byte offsets into that memory, counts are in floats.
 * Float32 arithmetic: for +, -, *, / the result equals the cpu kernels' (which compute in float64
 * and round), because float64 is wide enough for double rounding to be exact; squared difference
 * and the batch-norm affine map round once more and may differ in the last bit.
 */
import { instantiate, type WasmMemory } from './wasm-api';
import { batchNormExports, batchNormFunctions, type BatchNormSimd } from './batchnorm-kernels';
import { layoutExports, layoutFunctions, type LayoutSimd } from './layout-kernels';
import { address, F32, forLoop, I32, load, op, store, V128, vectorThenTail, type WasmFunction } from './wasm-writer';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'squaredDifference';
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'squaredDifference'];

/** Code combining the two values on the stack (left, right); `v`/`f` are scratch locals. */
function combine(kind: BinaryOp, simd: boolean, scratch: number): number[] {
  const plain = {
    add: simd ? op.f32x4Add : op.f32Add,
    sub: simd ? op.f32x4Sub : op.f32Sub,
    mul: simd ? op.f32x4Mul : op.f32Mul,
    div: simd ? op.f32x4Div : op.f32Div,
  };
  if (kind !== 'squaredDifference') return plain[kind];
  return [...plain.sub, ...op.tee(scratch), ...op.get(scratch), ...plain.mul];
}

/** out[i] = a[i] op b[i]: (a, b, out, n) */
function same(kind: BinaryOp): WasmFunction {
  const [a, b, out, n, i, end, v, f] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: `${kind}_same`,
    params: [I32, I32, I32, I32],
    locals: [I32, I32, V128, F32],
    body: vectorThenTail(i, end, n, (simd) => [
      ...address(out, i), ...load(a, i, simd), ...load(b, i, simd), ...combine(kind, simd, simd ? v : f), ...store(simd),
    ]),
  };
}

/** out[i] = x[i] op s, or s op x[i] when `left`: (x, s, out, n) */
function scalar(kind: BinaryOp, left: boolean): WasmFunction {
  const [x, s, out, n, i, end, vs, v, f] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const operands = (simd: boolean) => {
    const value = load(x, i, simd);
    const constant = simd ? op.get(vs) : op.get(s);
    return left ? [...constant, ...value] : [...value, ...constant];
  };
  return {
    name: `${kind}_scalar${left ? '_left' : ''}`,
    params: [I32, F32, I32, I32],
    locals: [I32, I32, V128, V128, F32],
    body: [
      ...op.get(s), ...op.f32x4Splat, ...op.set(vs),
      ...vectorThenTail(i, end, n, (simd) => [...address(out, i), ...operands(simd), ...combine(kind, simd, simd ? v : f), ...store(simd)]),
    ],
  };
}

/**
 * out = big op small (small op big when `left`) with small repeating over the middle axes:
 * out [outer, repeat, inner], small [outer, inner]: (big, small, out, outer, repeat, inner)
 */
function block(kind: BinaryOp, left: boolean): WasmFunction {
  const [big, small, out, outer, repeat, inner] = [0, 1, 2, 3, 4, 5];
  const [o, r, j, end, row, smallRow, bigRow, outRow, v, f] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const rowBody = (simd: boolean) => {
    const value = load(bigRow, j, simd);
    const repeated = load(smallRow, j, simd);
    return [
      ...address(outRow, j),
      ...(left ? [...repeated, ...value] : [...value, ...repeated]),
      ...combine(kind, simd, simd ? v : f),
      ...store(simd),
    ];
  };
  return {
    name: `${kind}_block${left ? '_left' : ''}`,
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, V128, F32],
    body: [
      ...op.i32(0), ...op.set(row), // byte offset of the current output row
      ...op.i32(0), ...op.set(o),
      ...forLoop(o, outer, 1, [
        ...op.get(small), ...op.get(o), ...op.get(inner), ...op.i32Mul, ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(smallRow),
        ...op.i32(0), ...op.set(r),
        ...forLoop(r, repeat, 1, [
          ...op.get(big), ...op.get(row), ...op.i32Add, ...op.set(bigRow),
          ...op.get(out), ...op.get(row), ...op.i32Add, ...op.set(outRow),
          ...vectorThenTail(j, end, inner, rowBody),
          ...op.get(row), ...op.get(inner), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(row),
        ]),
      ]),
    ],
  };
}

/** out[i] = max(x[i], 0), NaN kept: (x, out, n) */
function relu(): WasmFunction {
  const [x, out, n, i, end, zero] = [0, 1, 2, 3, 4, 5];
  return {
    name: 'relu',
    params: [I32, I32, I32],
    locals: [I32, I32, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...vectorThenTail(i, end, n, (simd) => [
        ...address(out, i), ...load(x, i, simd), ...(simd ? [...op.get(zero), ...op.f32x4Max] : [...op.f32(0), ...op.f32Max]), ...store(simd),
      ]),
    ],
  };
}

/**
 * step(v) on the stack, as the ReLU gradient needs it: 1 where v > 0, `otherwise` elsewhere, v
 * itself (NaN) where v is NaN. `v` and `otherwise` are locals (v128 or f32); `one` a v128 local
 * of ones (SIMD only).
 */
function stepOf(simd: boolean, v: number, otherwise: number, one: number): number[] {
  // bitselect(a, b, mask) and select(a, b, condition) take a where the mask or condition is set
  return simd
    ? [
        ...op.get(v),
        ...op.get(one), ...op.get(otherwise), ...op.get(v), ...op.f32(0), ...op.f32x4Splat, ...op.f32x4Gt, ...op.v128Bitselect,
        ...op.get(v), ...op.get(v), ...op.f32x4Ne, ...op.v128Bitselect,
      ]
    : [
        ...op.get(v),
        ...op.f32(1), ...op.get(otherwise), ...op.get(v), ...op.f32(0), ...op.f32Gt, ...op.select,
        ...op.get(v), ...op.get(v), ...op.f32Ne, ...op.select,
      ];
}

/** out[i] = 1 if x[i] > 0, alpha otherwise, NaN for NaN (the ReLU gradient mask): (x, out, n, alpha) */
function step(): WasmFunction {
  const [x, out, n, alpha, i, end, one, alphas, vx, fx] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    name: 'step',
    params: [I32, I32, I32, F32],
    locals: [I32, I32, V128, V128, V128, F32],
    body: [
      ...op.f32(1), ...op.f32x4Splat, ...op.set(one),
      ...op.get(alpha), ...op.f32x4Splat, ...op.set(alphas),
      ...vectorThenTail(i, end, n, (simd) =>
        simd
          ? [
              ...address(out, i),
              ...op.get(x), ...op.get(i), ...op.i32Add, ...op.v128Load, ...op.set(vx),
              ...stepOf(true, vx, alphas, one),
              ...op.v128Store,
            ]
          : [
              ...address(out, i),
              ...op.get(x), ...op.get(i), ...op.i32Add, ...op.f32Load, ...op.set(fx),
              ...stepOf(false, fx, alpha, one),
              ...op.f32Store,
            ],
      ),
    ],
  };
}

/** out[i] = max(a[i] + b[i], 0): the residual sum and ReLU of a ResNet block in one pass, the same bits as add then relu: (a, b, out, n) */
function addRelu(): WasmFunction {
  const [a, b, out, n, i, end, zero] = [0, 1, 2, 3, 4, 5, 6];
  return {
    name: 'add_relu',
    params: [I32, I32, I32, I32],
    locals: [I32, I32, V128],
    body: [
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...vectorThenTail(i, end, n, (simd) => [
        ...address(out, i), ...load(a, i, simd), ...load(b, i, simd),
        ...(simd ? [...op.f32x4Add, ...op.get(zero), ...op.f32x4Max] : [...op.f32Add, ...op.f32(0), ...op.f32Max]),
        ...store(simd),
      ]),
    ],
  };
}

/**
 * out[i] = dy[i] * step(y[i]) with y the ReLU's output: the bits of dy * step(x) on its input
 * (y > 0 exactly where x > 0, NaN exactly where x is NaN), in one pass: (y, dy, out, n)
 */
function reluGrad(): WasmFunction {
  const [y, dy, out, n, i, end, one, zero, vy, fy, zeroScalar] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    name: 'relu_grad',
    params: [I32, I32, I32, I32],
    locals: [I32, I32, V128, V128, V128, F32, F32], // zeroScalar starts at 0
    body: [
      ...op.f32(1), ...op.f32x4Splat, ...op.set(one),
      ...op.f32(0), ...op.f32x4Splat, ...op.set(zero),
      ...vectorThenTail(i, end, n, (simd) =>
        simd
          ? [
              ...address(out, i),
              ...op.get(dy), ...op.get(i), ...op.i32Add, ...op.v128Load,
              ...op.get(y), ...op.get(i), ...op.i32Add, ...op.v128Load, ...op.set(vy),
              ...stepOf(true, vy, zero, one), // as the step kernel computes it
              ...op.f32x4Mul,
              ...op.v128Store,
            ]
          : [
              ...address(out, i),
              ...op.get(dy), ...op.get(i), ...op.i32Add, ...op.f32Load,
              ...op.get(y), ...op.get(i), ...op.i32Add, ...op.f32Load, ...op.set(fy),
              ...stepOf(false, fy, zeroScalar, one),
              ...op.f32Mul,
              ...op.f32Store,
            ],
      ),
    ],
  };
}

/**
 * out[i] = min(max(x[i], lo), hi): (x, out, n, lo, hi). WebAssembly's min and max return NaN when
 * either operand is NaN, so NaN stays NaN, as in tfjs's clipByValue.
 */
function clip(): WasmFunction {
  const [x, out, n, lo, hi, i, end, los, his] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return {
    name: 'clip',
    params: [I32, I32, I32, F32, F32],
    locals: [I32, I32, V128, V128],
    body: [
      ...op.get(lo), ...op.f32x4Splat, ...op.set(los),
      ...op.get(hi), ...op.f32x4Splat, ...op.set(his),
      ...vectorThenTail(i, end, n, (simd) => [
        ...address(out, i), ...load(x, i, simd),
        ...(simd ? [...op.get(los), ...op.f32x4Max, ...op.get(his), ...op.f32x4Min] : [...op.get(lo), ...op.f32Max, ...op.get(hi), ...op.f32Min]),
        ...store(simd),
      ]),
    ],
  };
}

/** out[i] = -x[i] or x[i]^2: (x, out, n) */
function unary(name: 'neg' | 'square'): WasmFunction {
  const [x, out, n, i, end, v, f] = [0, 1, 2, 3, 4, 5, 6];
  const apply = (simd: boolean) => {
    if (name === 'neg') return simd ? op.f32x4Neg : op.f32Neg;
    const t = simd ? v : f;
    return [...op.tee(t), ...op.get(t), ...(simd ? op.f32x4Mul : op.f32Mul)];
  };
  return {
    name,
    params: [I32, I32, I32],
    locals: [I32, I32, V128, F32],
    body: vectorThenTail(i, end, n, (simd) => [...address(out, i), ...load(x, i, simd), ...apply(simd), ...store(simd)]),
  };
}

/** out[i] = value: (out, n, value) */
function fill(): WasmFunction {
  const [out, n, value, i, end, vs] = [0, 1, 2, 3, 4, 5];
  return {
    name: 'fill',
    params: [I32, I32, F32],
    locals: [I32, I32, V128],
    body: [
      ...op.get(value), ...op.f32x4Splat, ...op.set(vs),
      ...vectorThenTail(i, end, n, (simd) => [...address(out, i), ...(simd ? op.get(vs) : op.get(value)), ...store(simd)]),
    ],
  };
}

/** The exported kernels (pointers are byte offsets, counts in floats). */
export interface SimdKernels {
  same: Record<BinaryOp, (a: number, b: number, out: number, n: number) => void>;
  /** x op s; `scalarLeft` s op x (only sub and div differ) */
  scalar: Record<BinaryOp, (x: number, s: number, out: number, n: number) => void>;
  scalarLeft: Record<BinaryOp, (x: number, s: number, out: number, n: number) => void>;
  block: Record<BinaryOp, (big: number, small: number, out: number, outer: number, repeat: number, inner: number) => void>;
  blockLeft: Record<BinaryOp, (big: number, small: number, out: number, outer: number, repeat: number, inner: number) => void>;
  relu: (x: number, out: number, n: number) => void;
  addRelu: (a: number, b: number, out: number, n: number) => void;
  reluGrad: (y: number, dy: number, out: number, n: number) => void;
  step: (x: number, out: number, n: number, alpha: number) => void;
  clip: (x: number, out: number, n: number, lo: number, hi: number) => void;
  neg: (x: number, out: number, n: number) => void;
  square: (x: number, out: number, n: number) => void;
  fill: (out: number, n: number, value: number) => void;
  /** training-mode batch norm passes (batchnorm-kernels.ts) */
  batchNorm: BatchNormSimd;
  /** layouts of the filter gradient as a convolution over the batch (layout-kernels.ts) */
  layout: LayoutSimd;
}

type Exported = (...args: number[]) => void;

/** Compiles the kernels against `memory`; throws where WebAssembly SIMD is unsupported. */
export function compileSimdKernels(memory: WasmMemory): SimdKernels {
  const functions: WasmFunction[] = [relu(), addRelu(), reluGrad(), step(), clip(), unary('neg'), unary('square'), fill(), ...batchNormFunctions(), ...layoutFunctions()];
  for (const kind of BINARY_OPS) functions.push(same(kind), scalar(kind, false), scalar(kind, true), block(kind, false), block(kind, true));
  const exports = instantiate(functions, memory);
  const fn = (name: string) => exports[name] as Exported;
  const table = (suffix: string) => Object.fromEntries(BINARY_OPS.map((kind) => [kind, fn(`${kind}_${suffix}`)])) as Record<BinaryOp, Exported>;
  return {
    same: table('same'),
    scalar: table('scalar'),
    scalarLeft: table('scalar_left'),
    block: table('block'),
    blockLeft: table('block_left'),
    relu: fn('relu'),
    addRelu: fn('add_relu'),
    reluGrad: fn('relu_grad'),
    step: fn('step'),
    clip: fn('clip'),
    neg: fn('neg'),
    square: fn('square'),
    fill: fn('fill'),
    batchNorm: batchNormExports(fn),
    layout: layoutExports(fn),
  };
}
