/**
 * Pairs of SimCLR views of a few images as 8-bit RGB pixels, for the "augmentation pairs" figure.
 */
import * as tf from '@tensorflow/tfjs';
import type { SimclrAugmentConfig } from '../config/types';
import type { Rng } from '../util/random';
import { simclrViews } from './simclr';

/** Images as interleaved 8-bit pixels, [n, height, width, channels] in row-major order. */
export interface RgbBatch {
  pixels: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** [n, h, w, c] in [0, 1] -> 8-bit pixels (rounded). Does not dispose `x`. */
export function toRgbBatch(x: tf.Tensor4D): RgbBatch {
  const [, height, width, channels] = x.shape;
  const values = x.dataSync();
  const pixels = Uint8Array.from(values, (v) => Math.round(Math.min(Math.max(v, 0), 1) * 255));
  return { pixels, height, width, channels };
}

/**
 * The originals and two views of each image: x [n, H, W, 3] in [0, 1] -> three RgbBatch of n images
 * (views are cropSize x cropSize). Draws from `rng` exactly as training would. Does not dispose `x`.
 */
export function simclrPairsPreview(
  x: tf.Tensor4D, config: SimclrAugmentConfig, rng: Rng,
): { originals: RgbBatch; views1: RgbBatch; views2: RgbBatch } {
  const [view1, view2] = simclrViews(x, config, rng);
  const result = { originals: toRgbBatch(x), views1: toRgbBatch(view1), views2: toRgbBatch(view2) };
  tf.dispose([view1, view2]);
  return result;
}
