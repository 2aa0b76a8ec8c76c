/**
 * Element-wise kernels for large float32 tensors, in JavaScript. In a conv-bn-relu training step,
 * once convolutions are fast, these passes over whole activation maps (batch-norm scale and shift,
 * ReLU and its gradient, residual adds) dominate. Here they beat both the cpu kernels and ORT:
 *   - the cpu kernels call the operation through a shared closure (V8 cannot inline it) and
 *     compute an index per element when broadcasting;
 *   - onnxruntime-node 1.23 copies every output into a fresh ArrayBuffer, whose page faults cost
 *     more than the pass itself.
 * Each loop below is written out per operation so that V8 compiles it to straight arithmetic, and
 * writes into a recycled buffer. The arithmetic (float64, rounded to float32 on store) is the cpu
 * kernels', so results are identical to the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { allFloat32, MIN_LARGE_ELEMENTS, withFallback, type OnnxKernel } from './kernel-utils';

type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'squaredDifference';

/** out[i] = a[i] op b[i] */
function sameShape(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
    case 'squaredDifference': for (let i = 0; i < n; i++) { const d = a[i] - b[i]; out[i] = d * d; } break;
  }
}

/** out[i] = a[i] op row[i mod c]: the row repeats over the leading axes (a per-channel vector). */
function rowRight(op: BinaryOp, a: Float32Array, row: Float32Array, out: Float32Array): void {
  const n = out.length;
  const c = row.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = a[i + j] + row[j]; break;
    case 'sub': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = a[i + j] - row[j]; break;
    case 'mul': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = a[i + j] * row[j]; break;
    case 'div': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = a[i + j] / row[j]; break;
    case 'squaredDifference':
      for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) { const d = a[i + j] - row[j]; out[i + j] = d * d; }
      break;
  }
}

/** out[i] = row[i mod c] op b[i] (the repeated row on the left). */
function rowLeft(op: BinaryOp, row: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  const c = row.length;
  switch (op) {
    case 'add': rowRight('add', b, row, out); break;
    case 'mul': rowRight('mul', b, row, out); break;
    case 'squaredDifference': rowRight('squaredDifference', b, row, out); break;
    case 'sub': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = row[j] - b[i + j]; break;
    case 'div': for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) out[i + j] = row[j] / b[i + j]; break;
  }
}

const BINARY: Record<string, BinaryOp> = {
  [tf.Add]: 'add',
  [tf.Sub]: 'sub',
  [tf.Multiply]: 'mul',
  [tf.RealDiv]: 'div',
  [tf.SquaredDifference]: 'squaredDifference',
};

/**
 * Length of the block that `small` repeats inside `big` when it only broadcasts over leading axes
 * (trailing dimensions equal, leading ones 1 or absent), else undefined.
 */
function repeatedBlock(big: readonly number[], small: readonly number[]): number | undefined {
  let block = 1;
  let i = small.length - 1;
  let j = big.length - 1;
  // Trailing dimensions that match exactly form the repeated block...
  while (i >= 0 && small[i] === big[j]) block *= small[i--], j--;
  // ...and everything before them in `small` must be 1.
  for (; i >= 0; i--) if (small[i] !== 1) return undefined;
  return block;
}

/** How b (or a) broadcasts: element by element, or as a block repeated over the leading axes. */
function broadcastPattern(aShape: number[], bShape: number[], outShape: number[]): 'same' | 'row-right' | 'row-left' | undefined {
  const size = tf.util.sizeFromShape(outShape);
  const aFull = tf.util.sizeFromShape(aShape) === size;
  const bFull = tf.util.sizeFromShape(bShape) === size;
  if (aFull && bFull) return 'same';
  if (aFull && repeatedBlock(outShape, bShape) !== undefined) return 'row-right';
  if (bFull && repeatedBlock(outShape, aShape) !== undefined) return 'row-left';
  return undefined;
}

function binaryKernel(kernelName: string, op: BinaryOp): OnnxKernel {
  return withFallback(kernelName, ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!allFloat32(a, b)) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (tf.util.sizeFromShape(outShape) < MIN_LARGE_ELEMENTS) return undefined;
    const pattern = broadcastPattern(a.shape, b.shape, outShape);
    if (pattern === undefined) return undefined;
    const out = backend.output(outShape);
    const [aValues, bValues] = [backend.float32(a), backend.float32(b)];
    if (pattern === 'same') sameShape(op, aValues, bValues, out);
    else if (pattern === 'row-right') rowRight(op, aValues, bValues, out);
    else rowLeft(op, aValues, bValues, out);
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}

/** One-input kernels: the loop writes f(x) for every element. */
const UNARY: Record<string, (x: Float32Array, out: Float32Array, attrs: tf.NamedAttrMap) => void> = {
  // (v + |v|) / 2 is v or 0 without a branch on the sign, which random signs would mispredict.
  [tf.Relu]: (x, out) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v === -Infinity ? 0 : (v + Math.abs(v)) * 0.5;
    }
  },
  // step(x) = 1 where x > 0, alpha elsewhere, NaN for NaN: the ReLU gradient is dy * step(x).
  [tf.Step]: (x, out, attrs) => {
    const alpha = (attrs.alpha as number | undefined) ?? 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v !== v ? NaN : alpha + (1 - alpha) * +(v > 0);
    }
  },
  [tf.Square]: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * x[i];
  },
  [tf.Neg]: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = -x[i];
  },
};

function unaryKernel(kernelName: string, loop: (x: Float32Array, out: Float32Array, attrs: tf.NamedAttrMap) => void): OnnxKernel {
  return withFallback<tf.NamedAttrMap>(kernelName, ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!allFloat32(x) || tf.util.sizeFromShape(x.shape) < MIN_LARGE_ELEMENTS) return undefined;
    const out = backend.output(x.shape);
    loop(backend.float32(x), out, attrs ?? {});
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  });
}

export const elementwiseKernels: OnnxKernel[] = [
  ...Object.entries(BINARY).map(([name, op]) => binaryKernel(name, op)),
  ...Object.entries(UNARY).map(([name, loop]) => unaryKernel(name, loop)),
];

