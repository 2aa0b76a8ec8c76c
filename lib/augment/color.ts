/**
 * Colour jitter and grayscale as per-image 3x3 colour maps, so a whole batch with a different map
 * per image is one batched matrix product per step.
 *
 * Brightness, contrast and saturation are torchvision's blends (with the clamp to [0, 1] after
 * each). Hue is a rotation of the chroma plane of YIQ space by the hue shift, instead of torchvision's
 * RGB -> HSV -> RGB round trip: a linear map keeps it one product per image, and it shifts hue
 * while keeping luma; it differs from the HSV shift in how far a colour moves in saturation.
 */
import * as tf from '@tensorflow/tfjs';

/** Row-major 3x3 map of RGB row vectors: out[j] = sum_k in[k] * m[3k + j]. */
export type ColorMatrix = number[];

/**
 * One colour step for one image: out = clamp(in x matrix + meanGrayWeight x mean gray(in), 0, 1),
 * where mean gray(in) is the image's mean luma (torchvision's contrast reference).
 */
export interface ColorStep {
  matrix: ColorMatrix;
  meanGrayWeight: number;
}

/** Luma weights of torchvision's rgb_to_grayscale (ITU-R 601). */
export const GRAY_WEIGHTS = [0.2989, 0.587, 0.114];

const IDENTITY: ColorMatrix = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export const identityStep: ColorStep = { matrix: IDENTITY, meanGrayWeight: 0 };

/** out = f * in (torchvision adjust_brightness). */
export function brightnessStep(factor: number): ColorStep {
  return { matrix: IDENTITY.map((v) => v * factor), meanGrayWeight: 0 };
}

/** out = f * in + (1 - f) * mean gray (torchvision adjust_contrast). */
export function contrastStep(factor: number): ColorStep {
  return { matrix: IDENTITY.map((v) => v * factor), meanGrayWeight: 1 - factor };
}

/** out = f * in + (1 - f) * gray(in) (torchvision adjust_saturation). */
export function saturationStep(factor: number): ColorStep {
  const matrix = IDENTITY.map((v, i) => v * factor + (1 - factor) * GRAY_WEIGHTS[Math.floor(i / 3)]);
  return { matrix, meanGrayWeight: 0 };
}

/** Every channel = gray(in) (torchvision rgb_to_grayscale with 3 output channels). */
export function grayscaleStep(): ColorStep {
  return saturationStep(0);
}

/** RGB -> YIQ (NTSC), column-vector convention: yiq = RGB_TO_YIQ * rgb. */
const RGB_TO_YIQ = [
  [0.299, 0.587, 0.114],
  [0.596, -0.274, -0.322],
  [0.211, -0.523, 0.312],
];

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

const YIQ_TO_RGB = inverse3(RGB_TO_YIQ);

function multiply3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((sum, v, k) => sum + v * b[k][j], 0)));
}

/**
 * Hue shift by `turns` of the colour wheel (in [-0.5, 0.5]) as a YIQ chroma rotation. The angle is
 * negated because in YIQ red -> blue -> green runs counter-clockwise; this way a positive shift
 * moves red towards green, as an HSV hue shift does.
 */
export function hueStep(turns: number): ColorStep {
  if (turns === 0) return identityStep;
  const angle = -2 * Math.PI * turns;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const rotation = [[1, 0, 0], [0, cos, -sin], [0, sin, cos]];
  const columnMap = multiply3(YIQ_TO_RGB, multiply3(rotation, RGB_TO_YIQ)); // rgb' = columnMap * rgb
  // Row-vector form is the transpose.
  return { matrix: [0, 1, 2].flatMap((k) => [0, 1, 2].map((j) => columnMap[j][k])), meanGrayWeight: 0 };
}

function isIdentity(step: ColorStep): boolean {
  return step.meanGrayWeight === 0 && step.matrix.every((v, i) => v === IDENTITY[i]);
}

/**
 * Applies colour steps to a batch: `steps[s][b]` is step s for image b, applied in order s = 0, 1, ...
 * x [B, H, W, 3] in [0, 1] -> [B, H, W, 3] in [0, 1]. A step that is the identity for every image
 * is skipped (the result would be the same). Does not dispose `x`.
 */
export function applyColorSteps(x: tf.Tensor4D, steps: ColorStep[][]): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  const pixels = height * width;
  return tf.tidy(() => {
    let flat = tf.reshape(x, [batch, pixels, 3]) as tf.Tensor3D; // [B, HW, 3]
    // mean gray of an image = its [HW * 3] values times this column (a product is faster than tf.mean on cpu)
    const meanGrayColumn = tf.tile(tf.tensor2d(GRAY_WEIGHTS.map((w) => w / pixels), [3, 1]), [pixels, 1]); // [HW*3, 1]
    for (const step of steps) {
      if (step.every(isIdentity)) continue;
      let out: tf.Tensor3D = tf.matMul(flat, tf.tensor3d(step.flatMap((s) => s.matrix), [batch, 3, 3])); // [B, HW, 3]
      if (step.some((s) => s.meanGrayWeight !== 0)) {
        const meanGray = tf.matMul(tf.reshape(flat, [batch, pixels * 3]), meanGrayColumn); // [B, 1]
        const offset = tf.mul(tf.tensor2d(step.map((s) => s.meanGrayWeight), [batch, 1]), meanGray); // [B, 1]
        out = tf.add(out, tf.reshape(offset, [batch, 1, 1]));
      }
      flat = tf.clipByValue(out, 0, 1);
    }
    return tf.reshape(flat, [batch, height, width, 3]) as tf.Tensor4D;
  });
}
