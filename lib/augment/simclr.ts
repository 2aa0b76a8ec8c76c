/**
 * SimCLR views (Chen et al. 2020, appendix A; CIFAR recipe of B.9): random resized crop,
 * horizontal flip, colour jitter (probability p), random grayscale, optional Gaussian blur.
 * Every per-image random choice is drawn in JS from the seeded Rng, image by image in the order
 * crop, flip, jitter, grayscale, blur, and the batch is then transformed by a few tensor ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { ColorJitterConfig, SimclrAugmentConfig } from '../config/types';
import { UsageError } from '../util/errors';
import type { Rng } from '../util/random';
import { gaussianBlur } from './blur';
import {
  applyColorSteps, brightnessStep, contrastStep, grayscaleStep, hueStep, identityStep, saturationStep, type ColorStep,
} from './color';
import { cropResize, type CropBox } from './resample';

/** Blur std range, pixels (SimCLR and torchvision GaussianBlur). */
const BLUR_SIGMA: [number, number] = [0.1, 2];
/** Tries of the area / aspect-ratio rejection sampling before the centre-crop fallback (torchvision). */
const CROP_TRIES = 10;

/**
 * Samples a crop as torchvision's RandomResizedCrop.get_params: area fraction uniform in `scale`,
 * log aspect ratio (w / h) uniform in log `ratio`, up to 10 tries for a crop that fits, otherwise
 * the largest centred crop with the ratio clamped to `ratio`.
 */
export function sampleResizedCrop(
  height: number, width: number, scale: [number, number], ratio: [number, number], rng: Rng,
): Omit<CropBox, 'flip'> {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < CROP_TRIES; t++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * The four jitter steps of one image in a random order (torchvision ColorJitter): factors uniform
 * in [max(0, 1 - s), 1 + s] for brightness, contrast and saturation, hue shift uniform in [-hue, hue].
 */
function sampleJitter(config: ColorJitterConfig, rng: Rng): ColorStep[] {
  const order = rng.shuffle([0, 1, 2, 3]);
  const factor = (strength: number) => rng.uniform(Math.max(0, 1 - strength), 1 + strength);
  const steps = [
    brightnessStep(factor(config.brightness)),
    contrastStep(factor(config.contrast)),
    saturationStep(factor(config.saturation)),
    hueStep(rng.uniform(-config.hue, config.hue)),
  ];
  return order.map((i) => steps[i]);
}

function checkProbability(value: number, name: string): void {
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${name} must be a probability in [0, 1], got ${value}`);
}

/** Throws a UsageError naming the first setting of a SimCLR augmentation config that is out of range. */
export function checkSimclrAugment(config: SimclrAugmentConfig): void {
  const { cropSize, cropScale, cropRatio, colorJitter } = config;
  if (!Number.isInteger(cropSize) || cropSize < 1) throw new UsageError(`cropSize must be a positive integer, got ${cropSize}`);
  if (!(cropScale[0] > 0 && cropScale[0] <= cropScale[1] && cropScale[1] <= 1)) {
    throw new UsageError(`cropScale must satisfy 0 < min <= max <= 1, got [${cropScale}]`);
  }
  if (!(cropRatio[0] > 0 && cropRatio[0] <= cropRatio[1])) {
    throw new UsageError(`cropRatio must satisfy 0 < min <= max, got [${cropRatio}]`);
  }
  checkProbability(config.flipP, 'flipP');
  checkProbability(colorJitter.p, 'colorJitter.p');
  checkProbability(config.grayscaleP, 'grayscaleP');
  checkProbability(config.blurP, 'blurP');
  for (const key of ['brightness', 'contrast', 'saturation'] as const) {
    if (!(colorJitter[key] >= 0)) throw new UsageError(`colorJitter.${key} must be >= 0, got ${colorJitter[key]}`);
  }
  if (!(colorJitter.hue >= 0 && colorJitter.hue <= 0.5)) {
    throw new UsageError(`colorJitter.hue must be in [0, 0.5] turns, got ${colorJitter.hue}`);
  }
  if (!(Number.isInteger(config.blurKernel) && config.blurKernel >= 1 && config.blurKernel % 2 === 1)) {
    throw new UsageError(`blurKernel must be an odd positive integer, got ${config.blurKernel}`);
  }
}

/**
 * One SimCLR view of every image: x [B, H, W, 3] in [0, 1] -> [B, cropSize, cropSize, 3] in [0, 1].
 * Draws from `rng`, so a seed fixes the view on every backend. Does not dispose `x`.
 */
export function simclrView(x: tf.Tensor4D, config: SimclrAugmentConfig, rng: Rng): tf.Tensor4D {
  checkSimclrAugment(config);
  const [batch, height, width] = x.shape;
  const boxes: CropBox[] = [];
  // colorSteps[s][b]: four jitter slots, then grayscale
  const colorSteps: ColorStep[][] = Array.from({ length: 5 }, () => []);
  const sigmas: number[] = [];
  for (let b = 0; b < batch; b++) {
    const crop = sampleResizedCrop(height, width, config.cropScale, config.cropRatio, rng);
    boxes.push({ ...crop, flip: rng.bernoulli(config.flipP) });
    const jitter = rng.bernoulli(config.colorJitter.p) ? sampleJitter(config.colorJitter, rng) : [];
    for (let s = 0; s < 4; s++) colorSteps[s].push(jitter[s] ?? identityStep);
    colorSteps[4].push(rng.bernoulli(config.grayscaleP) ? grayscaleStep() : identityStep);
    sigmas.push(rng.bernoulli(config.blurP) ? rng.uniform(BLUR_SIGMA[0], BLUR_SIGMA[1]) : 0);
  }
  return tf.tidy(() => {
    const cropped = cropResize(x, boxes, config.cropSize, config.cropSize);
    const colored = applyColorSteps(cropped, colorSteps);
    return sigmas.some((s) => s > 0) ? gaussianBlur(colored, sigmas, config.blurKernel) : colored;
  });
}

/**
 * Two independent SimCLR views of every image (the positive pairs):
 * x [B, H, W, 3] in [0, 1] -> two [B, cropSize, cropSize, 3]. Does not dispose `x`.
 */
export function simclrViews(x: tf.Tensor4D, config: SimclrAugmentConfig, rng: Rng): [tf.Tensor4D, tf.Tensor4D] {
  return [simclrView(x, config, rng), simclrView(x, config, rng)];
}
