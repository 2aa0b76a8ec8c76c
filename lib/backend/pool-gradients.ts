/**
 * Max-pool gradient from dense ops. Needed because wasm's own MaxPoolGrad (and MaxPoolWithArgmax)
 * in tfjs 4.22 drop the gradient of windows whose maximum is negative.
 */
import * as tf from '@tensorflow/tfjs';
import { insertZeros, padOrCrop } from './spatial';

/**
 * Gradient of tf.maxPool with respect to its input: each window's dy goes to its first maximum in
 * row-major order, as on the cpu backend and in TensorFlow.
 * dy [N, Ho, Wo, C], x [N, H, W, C] (pool input), y [N, Ho, Wo, C] (pool output) -> [N, H, W, C].
 */
export function maxPoolInputGradient(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
  const { top, bottom, left, right } = info.padInfo;
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    // padding never wins the max
    const padded = padOrCrop(x, [top, bottom], [left, right], -Infinity); // [N, Hp, Wp, C]
    const [hp, wp] = [padded.shape[1], padded.shape[2]];
    let claimed = tf.zeros(y.shape, 'bool');
    let dxPadded = tf.zeros(padded.shape) as tf.Tensor4D;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // the window element at offset (i, j) of every output position
        const tap = tf.stridedSlice(padded, [0, i, j, 0], [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c], [1, sh, sw, 1]); // [N, Ho, Wo, C]
        const wins = tf.logicalAnd(tf.equal(tap, y), tf.logicalNot(claimed));
        claimed = tf.logicalOr(claimed, wins);
        const routed = insertZeros(tf.where(wins, dy, tf.zerosLike(dy)), sh, sw); // [N, Ho·sh, Wo·sw, C]
        // shift the routed gradient back to rows i, i + sh, ... of the padded input
        const placed = padOrCrop(routed, [i, hp - i - routed.shape[1]], [j, wp - j - routed.shape[2]]); // [N, Hp, Wp, C]
        dxPadded = tf.add(dxPadded, placed);
      }
    }
    return tf.slice(dxPadded, [0, top, left, 0], [n, h, w, c]); // [N, H, W, C]
  });
}
