/**
 * Element-wise kernels for large float32 tensors. In a conv-bn-relu training step, once
 * convolutions are fast, these passes over whole activation maps (batch-norm statistics, scale and
 * shift, ReLU and its gradient, residual adds) come next. They run as WebAssembly SIMD loops on
 * tensors held in the arena (simd/), else as plain JavaScript loops (elementwise-loops.ts); both
 * beat the cpu kernels, which call the operation through a closure V8 cannot inline and compute
 * an index per element when broadcasting, and ORT, whose Node binding copies every output into
 * fresh memory (page faults cost more than the pass itself).
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import type { RowJob } from '../parallel/row-threads';
import { SCRATCH_SLOT_FLOATS } from '../simd/arena';
import type { BinaryOp, SimdKernels } from '../simd/kernels';
import { blockRepeat, sameShape } from './elementwise-loops';
import { allFloat32, MIN_LARGE_ELEMENTS, withFallback, type OnnxKernel } from './kernel-utils';

/**
 * [outer, repeat, inner] of a `small` operand broadcast into `outShape`, or undefined when it
 * repeats over more than one run of axes (left to the cpu kernel).
 */
export function repeatGeometry(outShape: readonly number[], small: readonly number[]): [number, number, number] | undefined {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - small.length).fill(1), ...small];
  const repeated = outShape.map((d, i) => d !== 1 && padded[i] === 1);
  const first = repeated.indexOf(true);
  const last = repeated.lastIndexOf(true);
  if (first < 0 || repeated.slice(first, last + 1).includes(false)) return undefined;
  const size = (from: number, to: number) => outShape.slice(from, to).reduce((p, d) => p * d, 1);
  return [size(0, first), size(first, last + 1), size(last + 1, rank)];
}

const BINARY: Record<string, BinaryOp> = {
  [tf.Add]: 'add',
  [tf.Sub]: 'sub',
  [tf.Multiply]: 'mul',
  [tf.RealDiv]: 'div',
  [tf.SquaredDifference]: 'squaredDifference',
};

/** Where each operand of a binary op lies: both full size, or one repeated ([outer, repeat, inner]). */
type Layout = { kind: 'same' } | { kind: 'repeat'; geometry: [number, number, number]; smallLeft: boolean };

function binaryLayout(aShape: number[], bShape: number[], outShape: number[]): Layout | undefined {
  const size = tf.util.sizeFromShape(outShape);
  const aFull = tf.util.sizeFromShape(aShape) === size;
  const bFull = tf.util.sizeFromShape(bShape) === size;
  if (aFull && bFull) return { kind: 'same' };
  // The smaller operand must repeat over one run of axes (not an outer product).
  const geometry = aFull ? repeatGeometry(outShape, bShape) : bFull ? repeatGeometry(outShape, aShape) : undefined;
  return geometry === undefined ? undefined : { kind: 'repeat', geometry, smallLeft: !aFull };
}

/** Floats per chunk of an element-wise row pass (what one thread claims at a time). */
const ELEMENTWISE_CHUNK = 16384;

/** A two-input SIMD kernel (a, b, out, n) over n floats as a row pass of rows of one float. */
export function elementwiseJob(kernel: 'addRelu' | 'reluGrad' | `same.${BinaryOp}`, [a, b, out]: number[], n: number): RowJob {
  return { kernel, channels: 1, rows: n, args: [a, b, out, n], rowArgs: [0, 1, 2], countArg: 3, chunkRows: ELEMENTWISE_CHUNK };
}

/** Runs shorter than this go to the block kernel: one WebAssembly call per run would cost more. */
const MIN_SCALAR_RUN = 64;

/** The SIMD kernel for the op, if both full-size operands and the output are in the arena. */
function binarySimd(backend: OnnxBackend, op: BinaryOp, a: Float32Array, b: Float32Array, layout: Layout, size: number): Float32Array | undefined {
  const arena = backend.arena;
  if (arena === undefined) return undefined;
  const [big, small] = layout.kind === 'repeat' && layout.smallLeft ? [b, a] : [a, b];
  if (!arena.contains(big) || (layout.kind === 'same' && !arena.contains(small))) return undefined;
  if (layout.kind === 'repeat' && small.length > SCRATCH_SLOT_FLOATS) return undefined;
  const out = arena.take(size);
  if (out === undefined) return undefined;
  const k = arena.kernels;
  if (layout.kind === 'same') {
    backend.runRows(elementwiseJob(`same.${op}`, [a.byteOffset, b.byteOffset, out.byteOffset], size));
  } else {
    const [outer, repeat, inner] = layout.geometry;
    if (inner === 1 && repeat >= MIN_SCALAR_RUN) {
      // One number per run of `repeat` (a per-image offset): a scalar pass per run, in SIMD;
      // the block kernel would step through single-float rows.
      const scalarOp = (layout.smallLeft ? k.scalarLeft : k.scalar)[op];
      for (let o = 0; o < outer; o++) scalarOp(big.byteOffset + 4 * o * repeat, small[o], out.byteOffset + 4 * o * repeat, repeat);
    } else {
      // The repeated operand is small (a per-channel vector) and lives outside the arena: copy it in.
      const smallPtr = arena.scratch(0, small);
      (layout.smallLeft ? k.blockLeft : k.block)[op](big.byteOffset, smallPtr, out.byteOffset, outer, repeat, inner);
    }
  }
  return out;
}

/** The same in plain JavaScript, into a pooled buffer. */
function binaryJs(backend: OnnxBackend, op: BinaryOp, a: Float32Array, b: Float32Array, layout: Layout, size: number): Float32Array {
  const out = backend.output([size]);
  if (layout.kind === 'same') sameShape(op, a, b, out);
  else if (layout.smallLeft) blockRepeat(op, b, a, out, ...layout.geometry, true);
  else blockRepeat(op, a, b, out, ...layout.geometry, false);
  return out;
}

function binaryKernel(kernelName: string, op: BinaryOp): OnnxKernel {
  return withFallback(kernelName, ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!allFloat32(a, b)) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    if (size < MIN_LARGE_ELEMENTS) return undefined;
    const layout = binaryLayout(a.shape, b.shape, outShape);
    if (layout === undefined) return undefined;
    const [aValues, bValues] = [backend.float32(a), backend.float32(b)];
    const out = binarySimd(backend, op, aValues, bValues, layout, size) ?? binaryJs(backend, op, aValues, bValues, layout, size);
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}

/** One-input kernels: a JavaScript loop writing f(x) for every element, and the SIMD kernel if there is one. */
interface UnaryOp {
  js: (x: Float32Array, out: Float32Array, attrs: tf.NamedAttrMap) => void;
  simd?: (k: SimdKernels, x: number, out: number, n: number, attrs: tf.NamedAttrMap) => void;
}

const stepAlpha = (attrs: tf.NamedAttrMap) => (attrs.alpha as number | undefined) ?? 0;

const UNARY: Record<string, UnaryOp> = {
  [tf.Relu]: {
    // (v + |v|) / 2 is v or 0 without a branch on the sign, which random signs would mispredict.
    js: (x, out) => {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        out[i] = v === -Infinity ? 0 : (v + Math.abs(v)) * 0.5;
      }
    },
    simd: (k, x, out, n) => k.relu(x, out, n),
  },
  // step(x) = 1 where x > 0, alpha elsewhere, NaN for NaN: the ReLU gradient is dy * step(x).
  [tf.Step]: {
    js: (x, out, attrs) => {
      const alpha = stepAlpha(attrs);
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        out[i] = v !== v ? NaN : alpha + (1 - alpha) * +(v > 0);
      }
    },
    simd: (k, x, out, n, attrs) => k.step(x, out, n, stepAlpha(attrs)),
  },
  // The SimCLR colour jitter clamps every view to [0, 1] after each of its steps.
  [tf.ClipByValue]: {
    js: (x, out, attrs) => {
      const [lo, hi] = [attrs.clipValueMin as number, attrs.clipValueMax as number];
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        out[i] = v > hi ? hi : v < lo ? lo : v;
      }
    },
    simd: (k, x, out, n, attrs) => k.clip(x, out, n, attrs.clipValueMin as number, attrs.clipValueMax as number),
  },
  [tf.Square]: {
    js: (x, out) => {
      for (let i = 0; i < x.length; i++) out[i] = x[i] * x[i];
    },
    simd: (k, x, out, n) => k.square(x, out, n),
  },
  // The softmax of the NT-Xent loss (2N x 2N logits). WebAssembly has no exp; the cpu kernel
  // calls Math.exp through a closure per element, this loop calls it directly (same values).
  [tf.Exp]: {
    js: (x, out) => {
      for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]);
    },
  },
  [tf.Neg]: {
    js: (x, out) => {
      for (let i = 0; i < x.length; i++) out[i] = -x[i];
    },
    simd: (k, x, out, n) => k.neg(x, out, n),
  },
};

function unaryKernel(kernelName: string, unary: UnaryOp): OnnxKernel {
  return withFallback<tf.NamedAttrMap>(kernelName, ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const size = tf.util.sizeFromShape(x.shape);
    if (!allFloat32(x) || size < MIN_LARGE_ELEMENTS) return undefined;
    const values = backend.float32(x);
    const arena = backend.arena;
    const simdOut = unary.simd !== undefined && arena?.contains(values) ? arena.take(size) : undefined;
    let out: Float32Array;
    if (arena !== undefined && simdOut !== undefined && unary.simd !== undefined) {
      unary.simd(arena.kernels, values.byteOffset, simdOut.byteOffset, size, attrs ?? {});
      out = simdOut;
    } else {
      out = backend.output(x.shape);
      unary.js(values, out, attrs ?? {});
    }
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  });
}

/** Fill (tf.fill, tf.ones: the gradient of a mean multiplies by ones of the input's shape). */
const fill: OnnxKernel = withFallback<tf.FillAttrs>(tf.Fill, ({ backend, attrs }) => {
  if (attrs.dtype !== 'float32' || tf.util.sizeFromShape(attrs.shape) < MIN_LARGE_ELEMENTS) return undefined;
  const out = backend.output(attrs.shape);
  const arena = backend.arena;
  if (arena?.contains(out)) arena.kernels.fill(out.byteOffset, out.length, attrs.value as number);
  else out.fill(attrs.value as number);
  return backend.makeTensorInfo([...attrs.shape], 'float32', out);
});

export const elementwiseKernels: OnnxKernel[] = [
  ...Object.entries(BINARY).map(([name, op]) => binaryKernel(name, op)),
  ...Object.entries(UNARY).map(([name, unary]) => unaryKernel(name, unary)),
  fill,
];

