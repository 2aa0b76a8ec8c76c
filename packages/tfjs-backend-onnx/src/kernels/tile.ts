/**
 * Tile (and so tf.broadcastTo): the gradient of the encoder's global average pool spreads
 * [B, 1, 1, C] over [B, H, W, C]. The cpu kernel maps every output element through index
 * arithmetic; here each input row is copied once and every repetition is made by doubling copies
 * of what is already written, innermost axis first. Values are copied, so the result is the cpu
 * kernel's exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { MIN_LARGE_ELEMENTS, withFallback } from './kernel-utils';

/** Repeats out[start, start + length) `times` times in place, doubling the copied span each time. */
function repeatSpan(out: Float32Array, start: number, length: number, times: number): void {
  const total = length * times;
  for (let done = length; done < total; done *= 2) out.copyWithin(start + done, start, start + Math.min(done, total - done));
}

function tileFloat32(backend: OnnxBackend, x: tf.TensorInfo, reps: number[]): tf.TensorInfo | undefined {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank === 0 || reps.length !== rank) return undefined;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const size = tf.util.sizeFromShape(outShape);
  if (size < MIN_LARGE_ELEMENTS) return undefined;
  const values = backend.float32(x);
  const out = backend.output(outShape);
  const inStrides = tf.util.computeStrides(x.shape);
  const outStrides = tf.util.computeStrides(outShape);
  const inStride = (axis: number) => (axis < rank - 1 ? inStrides[axis] : 1);
  const outStride = (axis: number) => (axis < rank - 1 ? outStrides[axis] : 1);
  // Writes x's block at `axis` (its first repetition) to outOffset, then repeats it along the axis.
  const place = (axis: number, inOffset: number, outOffset: number): void => {
    if (axis === rank - 1) {
      out.set(values.subarray(inOffset, inOffset + x.shape[axis]), outOffset);
    } else {
      for (let i = 0; i < x.shape[axis]; i++) place(axis + 1, inOffset + i * inStride(axis), outOffset + i * outStride(axis));
    }
    repeatSpan(out, outOffset, x.shape[axis] * outStride(axis), reps[axis]);
  };
  if (size > 0) place(0, 0, 0);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const tile = withFallback<tf.TileAttrs>(tf.Tile, ({ inputs, backend, attrs }) => tileFloat32(backend, inputs.x, attrs.reps));
