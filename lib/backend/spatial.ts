/**
 * Moving values around the two spatial axes of NHWC tensors: the zero insertion and the
 * pad-or-crop margins that turn strided gradients into dense, stride-1 computations.
 */
import * as tf from '@tensorflow/tfjs';

/** Amount before and after along one axis; negative means crop. */
export type Margin = [number, number];

/** Inserts s − 1 zero rows (columns) after every row (column). x [N, H, W, C] -> [N, H·sh, W·sw, C]. */
export function insertZeros(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.reshape(x, [n, h, 1, w, 1, c]); // [N, H, 1, W, 1, C]
  const zeros = tf.pad(spread, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]); // [N, H, sh, W, sw, C]
  return tf.reshape(zeros, [n, h * sh, w * sw, c]); // [N, H·sh, W·sw, C]
}

/**
 * Crops the negative margins off x [N, H, W, C] and returns the rest as explicit conv padding
 * (all ≥ 0), so a convolution can apply it without materialising a padded copy.
 */
export function cropNegativeMargins(
  x: tf.Tensor4D,
  rows: Margin,
  cols: Margin,
): [tf.Tensor4D, tf.backend_util.ExplicitPadding] {
  const [top, bottom, left, right] = [rows[0], rows[1], cols[0], cols[1]].map((m) => Math.max(-m, 0));
  const [n, h, w, c] = x.shape;
  const cropped = top + bottom + left + right === 0
    ? x
    : tf.slice(x, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]);
  const keep = (m: Margin): [number, number] => [Math.max(m[0], 0), Math.max(m[1], 0)];
  return [cropped, [[0, 0], keep(rows), keep(cols), [0, 0]]];
}

/** Pads (positive margins, with `value`) or crops (negative) x [N, H, W, C] -> [N, H + rows, W + cols, C]. */
export function padOrCrop(x: tf.Tensor4D, rows: Margin, cols: Margin, value = 0): tf.Tensor4D {
  const [cropped, padding] = cropNegativeMargins(x, rows, cols);
  const nothingToPad = padding.every(([before, after]) => before === 0 && after === 0);
  return nothingToPad ? cropped : tf.pad(cropped, padding, value);
}
