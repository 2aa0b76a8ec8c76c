/**
 * The element-wise loops in plain JavaScript, for tensors outside the SIMD arena. Each loop is
 * written out per operation so V8 compiles it to straight arithmetic (a closure per element would
 * not be inlined). The arithmetic (float64, rounded to float32 on store) is the cpu kernels', so
 * the results are identical to theirs.
 */
import type { BinaryOp } from '../simd/kernels';

/** out[i] = a[i] op b[i] */
export function sameShape(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
    case 'squaredDifference': for (let i = 0; i < n; i++) { const d = a[i] - b[i]; out[i] = d * d; } break;
  }
}

/**
 * out = big op small (small op big when `smallLeft`), where small repeats over one run of axes:
 * out seen as [outer, repeat, inner] and small as [outer, inner]. A per-channel vector over NHWC
 * is outer = 1, inner = C; a [N, 1, 1, C] gradient over [N, H, W, C] is outer = N.
 */
export function blockRepeat(
  op: BinaryOp, big: Float32Array, small: Float32Array, out: Float32Array,
  outer: number, repeat: number, inner: number, smallLeft: boolean,
): void {
  if (outer === 1 && inner === 1) {
    scalar(op, big, small[0], out, smallLeft);
    return;
  }
  for (let o = 0; o < outer; o++) {
    const s = o * inner;
    for (let r = 0; r < repeat; r++) {
      const b = (o * repeat + r) * inner;
      if (smallLeft && op === 'sub') for (let j = 0; j < inner; j++) out[b + j] = small[s + j] - big[b + j];
      else if (smallLeft && op === 'div') for (let j = 0; j < inner; j++) out[b + j] = small[s + j] / big[b + j];
      else {
        switch (op) {
          case 'add': for (let j = 0; j < inner; j++) out[b + j] = big[b + j] + small[s + j]; break;
          case 'sub': for (let j = 0; j < inner; j++) out[b + j] = big[b + j] - small[s + j]; break;
          case 'mul': for (let j = 0; j < inner; j++) out[b + j] = big[b + j] * small[s + j]; break;
          case 'div': for (let j = 0; j < inner; j++) out[b + j] = big[b + j] / small[s + j]; break;
          case 'squaredDifference':
            for (let j = 0; j < inner; j++) { const d = big[b + j] - small[s + j]; out[b + j] = d * d; }
            break;
        }
      }
    }
  }
}

/** out[i] = x[i] op s (s op x[i] when `scalarLeft`). */
function scalar(op: BinaryOp, x: Float32Array, s: number, out: Float32Array, scalarLeft: boolean): void {
  const n = out.length;
  if (scalarLeft && op === 'sub') for (let i = 0; i < n; i++) out[i] = s - x[i];
  else if (scalarLeft && op === 'div') for (let i = 0; i < n; i++) out[i] = s / x[i];
  else {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = x[i] + s; break;
      case 'sub': for (let i = 0; i < n; i++) out[i] = x[i] - s; break;
      case 'mul': for (let i = 0; i < n; i++) out[i] = x[i] * s; break;
      case 'div': for (let i = 0; i < n; i++) out[i] = x[i] / s; break;
      case 'squaredDifference': for (let i = 0; i < n; i++) { const d = x[i] - s; out[i] = d * d; } break;
    }
  }
}
