/**
 * Standard CIFAR augmentation for supervised training: zero-pad, random crop back to the image
 * size, random horizontal flip (torchvision RandomCrop(32, padding=4) + RandomHorizontalFlip).
 */
import type * as tf from '@tensorflow/tfjs';
import type { SupervisedAugmentConfig } from '../config/types';
import { UsageError } from '../util/errors';
import type { Rng } from '../util/random';
import { cropResize, type CropBox } from './resample';

/**
 * Random padded crop and flip of every image: x [B, H, W, C] in [0, 1] -> [B, H, W, C].
 * Draws, per image, the crop's top and left offsets then the flip from `rng`. Does not dispose `x`.
 */
export function supervisedAugment(x: tf.Tensor4D, config: SupervisedAugmentConfig, rng: Rng): tf.Tensor4D {
  const { padding, flipP } = config;
  if (!(Number.isInteger(padding) && padding >= 0)) {
    throw new UsageError(`augment padding must be a non-negative integer, got ${padding}`);
  }
  if (!(flipP >= 0 && flipP <= 1)) throw new UsageError(`augment flipP must be a probability in [0, 1], got ${flipP}`);
  const [batch, height, width] = x.shape;
  const boxes: CropBox[] = [];
  for (let b = 0; b < batch; b++) {
    // A window of the zero-padded image; rows and columns outside the image read as 0.
    const top = rng.int(2 * padding + 1) - padding;
    const left = rng.int(2 * padding + 1) - padding;
    boxes.push({ top, left, height, width, flip: rng.bernoulli(flipP) });
  }
  return cropResize(x, boxes, height, width);
}
