/**
 * FusedBatchNorm (tf.batchNorm), y = (x - mean) * scale / sqrt(variance + eps) + offset, for
 * per-channel statistics: folded into one multiplier and one shift per channel, then a single pass
 * y = x * a + b (SIMD in the arena, else JavaScript; see elementwise.ts for why not ORT).
 */
import * as tf from '@tensorflow/tfjs';
import { SCRATCH_SLOT_FLOATS } from '../simd/arena';
import { allFloat32, MIN_LARGE_ELEMENTS, withFallback, type OnnxKernel } from './kernel-utils';

/** The per-channel values of a statistic: C of them, or one broadcast to all; else undefined. */
function perChannel(values: Float32Array | undefined, shape: number[] | undefined, xShape: number[], fill: number): Float64Array | undefined {
  const channels = xShape[xShape.length - 1];
  const out = new Float64Array(channels);
  if (values === undefined || shape === undefined) return out.fill(fill);
  if (values.length === 1) return out.fill(values[0]);
  // [C] or [1, ..., 1, C]: one value per channel of the last axis
  const lastOnly = shape[shape.length - 1] === channels && shape.slice(0, -1).every((d) => d === 1);
  if (!lastOnly) return undefined;
  out.set(values);
  return out;
}

export const fusedBatchNorm: OnnxKernel = withFallback<tf.FusedBatchNormAttrs>(
  tf.FusedBatchNorm,
  ({ inputs, backend, attrs }) => {
    const { x, mean, variance } = inputs;
    const offset: tf.TensorInfo | undefined = inputs.offset;
    const scale: tf.TensorInfo | undefined = inputs.scale;
    if (!allFloat32(x, mean, variance, offset, scale) || tf.util.sizeFromShape(x.shape) < MIN_LARGE_ELEMENTS) return undefined;
    const stat = (t: tf.TensorInfo | undefined, fill: number) =>
      perChannel(t && backend.float32(t), t?.shape, x.shape, fill);
    const [m, v, o, s] = [stat(mean, 0), stat(variance, 1), stat(offset, 0), stat(scale, 1)];
    if (m === undefined || v === undefined || o === undefined || s === undefined) return undefined;
    // a = scale / sqrt(variance + eps), b = offset - mean * a, per channel
    const channels = m.length;
    const a = new Float64Array(channels);
    const b = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      a[c] = s[c] / Math.sqrt(v[c] + attrs.varianceEpsilon);
      b[c] = o[c] - m[c] * a[c];
    }
    const xs = backend.float32(x);
    const out = backend.output(x.shape);
    const arena = backend.arena;
    if (arena?.contains(xs) && arena.contains(out) && channels <= SCRATCH_SLOT_FLOATS) {
      const [scale, shift] = [arena.scratch(0, a), arena.scratch(1, b)];
      arena.batchNorm(channels).affine.plain(xs.byteOffset, scale, shift, out.byteOffset, xs.length / channels, channels);
    } else {
      for (let i = 0; i < xs.length; i += channels) {
        for (let c = 0; c < channels; c++) out[i + c] = xs[i + c] * a[c] + b[c];
      }
    }
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  },
);
