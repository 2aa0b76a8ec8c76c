/**
 * Gaussian blur with a different width per image, as one separable depthwise convolution: the
 * batch is folded into the channel axis so each image's channels get their own kernel.
 */
import * as tf from '@tensorflow/tfjs';

/** Normalised Gaussian weights of `size` taps (odd) and std `sigma` pixels; sigma 0 gives [.., 0, 1, 0, ..]. */
export function gaussianKernel1d(size: number, sigma: number): number[] {
  const half = (size - 1) / 2;
  if (sigma === 0) return Array.from({ length: size }, (_, i) => (i === half ? 1 : 0));
  const weights = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/**
 * Blurs image b with a Gaussian of std sigmas[b] pixels (0 leaves it unchanged), `kernelSize` taps
 * (odd), reflected borders as torchvision: x [B, H, W, C] -> [B, H, W, C]. Does not dispose `x`.
 */
export function gaussianBlur(x: tf.Tensor4D, sigmas: number[], kernelSize: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const folded = batch * channels;
  // Tap t of channel (b, c) sits at index t * folded + b * channels + c of a [k, 1, folded, 1] filter.
  const taps = new Float32Array(kernelSize * folded);
  sigmas.forEach((sigma, b) => {
    gaussianKernel1d(kernelSize, sigma).forEach((w, t) => {
      for (let c = 0; c < channels; c++) taps[t * folded + b * channels + c] = w;
    });
  });
  const radius = (kernelSize - 1) / 2;
  return tf.tidy(() => {
    const stacked = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, height, width, folded]); // [1, H, W, B*C]
    const padded = tf.mirrorPad(stacked, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect') as tf.Tensor4D;
    const vertical = tf.tensor4d(taps, [kernelSize, 1, folded, 1]);
    const horizontal = tf.tensor4d(taps, [1, kernelSize, folded, 1]);
    const blurred = tf.depthwiseConv2d(tf.depthwiseConv2d(padded, vertical, 1, 'valid'), horizontal, 1, 'valid');
    return tf.transpose(tf.reshape(blurred, [height, width, batch, channels]), [2, 0, 1, 3]) as tf.Tensor4D; // [B, H, W, C]
  });
}
