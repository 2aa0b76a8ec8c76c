import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { gaussianBlur, gaussianKernel1d } from '../lib/augment/blur';
import {
  applyColorSteps, brightnessStep, contrastStep, grayscaleStep, hueStep, identityStep, saturationStep,
  type ColorStep,
} from '../lib/augment/color';
import { cropResize, type CropBox } from '../lib/augment/resample';
import { Rng } from '../lib/util/random';

before(async () => {
  await tf.setBackend('cpu');
});

function randomImages(b: number, h: number, w: number, seed: number): { data: Float32Array; x: tf.Tensor4D } {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: b * h * w * 3 }, () => rng.next());
  return { data, x: tf.tensor4d(data, [b, h, w, 3]) };
}

/**
 * Bilinear sample of one image, corner-aligned (box corner pixels -> output corner pixels), 0 for
 * a sample outside the image, written pixel by pixel.
 */
function naiveCrop(data: Float32Array, b: number, h: number, w: number, box: CropBox, size: number): number[] {
  const at = (y: number, x: number, c: number) =>
    y >= 0 && y < h && x >= 0 && x < w ? data[((b * h + y) * w + x) * 3 + c] : 0;
  const out: number[] = [];
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      const py = box.top + (oy * (box.height - 1)) / (size - 1);
      const px = box.left + ((box.flip ? size - 1 - ox : ox) * (box.width - 1)) / (size - 1);
      const y0 = Math.floor(py);
      const x0 = Math.floor(px);
      const wy = py - y0;
      const wx = px - x0;
      const outside = py < 0 || py > h - 1 || px < 0 || px > w - 1;
      for (let c = 0; c < 3; c++) {
        if (outside) {
          out.push(0);
          continue;
        }
        const top = at(y0, x0, c) * (1 - wx) + at(y0, x0 + 1, c) * wx;
        const bottom = at(y0 + 1, x0, c) * (1 - wx) + at(y0 + 1, x0 + 1, c) * wx;
        out.push(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}

test('cropResize matches a pixel-by-pixel bilinear reference, per image, with flips and zero padding', () => {
  const { data, x } = randomImages(4, 8, 8, 1);
  const boxes: CropBox[] = [
    { top: 1, left: 2, height: 5, width: 3, flip: false },
    { top: 0, left: 0, height: 8, width: 8, flip: true },
    { top: 6, left: 5, height: 2, width: 3, flip: true },
    { top: -2, left: 3, height: 8, width: 8, flip: false },
  ];
  for (const size of [6, 8]) {
    const out = cropResize(x, boxes, size, size);
    assert.deepEqual(out.shape, [4, size, size, 3]);
    const actual = out.dataSync();
    boxes.forEach((box, b) => {
      naiveCrop(data, b, 8, 8, box, size).forEach((v, i) =>
        // the boxes' 1e-4-pixel edge margin allows that much interpolation error
        assert.ok(Math.abs(actual[b * size * size * 3 + i] - v) < 2e-4, `size ${size} image ${b} value ${i}`));
    });
    out.dispose();
  }
  x.dispose();
});

test('cropResize of the whole image at its own size copies pixels exactly', () => {
  const { data, x } = randomImages(2, 5, 5, 2);
  const out = cropResize(x, [0, 1].map(() => ({ top: 0, left: 0, height: 5, width: 5, flip: false })), 5, 5);
  assert.deepEqual(out.dataSync(), data);
  tf.dispose([x, out]);
});

type NaiveOp = ['brightness' | 'contrast' | 'saturation' | 'hue' | 'grayscale' | 'none', number];

/** torchvision's blends, and a hue rotation through published YIQ coefficients, pixel by pixel. */
function naiveOp(pixels: number[][], [op, f]: NaiveOp): number[][] {
  const gray = (p: number[]) => 0.2989 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  const meanGray = pixels.reduce((s, p) => s + gray(p), 0) / pixels.length;
  const clamp = (v: number) => Math.min(Math.max(v, 0), 1);
  return pixels.map((p) => {
    switch (op) {
      case 'brightness': return p.map((v) => clamp(f * v));
      case 'contrast': return p.map((v) => clamp(f * v + (1 - f) * meanGray));
      case 'saturation': return p.map((v) => clamp(f * v + (1 - f) * gray(p)));
      case 'grayscale': return p.map(() => clamp(gray(p)));
      case 'none': return p;
      case 'hue': {
        const [r, g, b] = p;
        const y = 0.299 * r + 0.587 * g + 0.114 * b;
        const i0 = 0.596 * r - 0.274 * g - 0.322 * b;
        const q0 = 0.211 * r - 0.523 * g + 0.312 * b;
        const angle = -2 * Math.PI * f;
        const i = Math.cos(angle) * i0 - Math.sin(angle) * q0;
        const q = Math.sin(angle) * i0 + Math.cos(angle) * q0;
        return [y + 0.956 * i + 0.621 * q, y - 0.272 * i - 0.647 * q, y - 1.106 * i + 1.703 * q].map(clamp);
      }
    }
  });
}

const STEP_OF: Record<NaiveOp[0], (f: number) => ColorStep> = {
  brightness: brightnessStep, contrast: contrastStep, saturation: saturationStep, hue: hueStep,
  grayscale: () => grayscaleStep(), none: () => identityStep,
};

test('colour steps follow torchvision blends and a YIQ hue rotation, with a different chain per image', () => {
  const { data, x } = randomImages(3, 4, 4, 3);
  const chains: NaiveOp[][] = [
    [['brightness', 1.3], ['contrast', 0.6], ['saturation', 1.4]],
    [['contrast', 1.4], ['none', 0], ['grayscale', 0]],
    [['saturation', 0.2], ['hue', 0.1], ['brightness', 0.7]],
  ];
  const steps = [0, 1, 2].map((s) => chains.map((chain) => STEP_OF[chain[s][0]](chain[s][1]))); // [slot][image]
  const out = applyColorSteps(x, steps);
  const actual = out.dataSync();
  chains.forEach((chain, b) => {
    let pixels = Array.from({ length: 16 }, (_, p) => Array.from(data.slice((b * 16 + p) * 3, (b * 16 + p) * 3 + 3)));
    for (const op of chain) pixels = naiveOp(pixels, op);
    // the published YIQ -> RGB coefficients have 3 decimals
    const tolerance = chain.some(([op]) => op === 'hue') ? 5e-3 : 1e-5;
    pixels.flat().forEach((v, i) => assert.ok(Math.abs(actual[b * 48 + i] - v) < tolerance, `image ${b} value ${i}`));
  });
  tf.dispose([x, out]);
});

test('brightness, contrast and saturation factors of 1 and hue 0 are exact identities', () => {
  const { data, x } = randomImages(2, 4, 4, 4);
  const chain = [brightnessStep(1), contrastStep(1), saturationStep(1), hueStep(0)];
  const out = applyColorSteps(x, chain.map((step) => [step, step]));
  assert.deepEqual(out.dataSync(), data);
  tf.dispose([x, out]);
});

test('hue shift keeps luma, moves red towards green for +1/3 turn, and is undone by the opposite shift', () => {
  const apply = (m: number[], p: number[]) => [0, 1, 2].map((j) => p.reduce((s, v, k) => s + v * m[3 * k + j], 0));
  const red = [0.8, 0.2, 0.2];
  const shifted = apply(hueStep(1 / 3).matrix, red);
  assert.ok(shifted[1] > shifted[0] && shifted[1] > shifted[2], `red + 1/3 turn = ${shifted}`);
  const luma = (p: number[]) => 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  assert.ok(Math.abs(luma(shifted) - luma(red)) < 1e-3);
  apply(hueStep(-0.2).matrix, apply(hueStep(0.2).matrix, red)).forEach((v, i) => assert.ok(Math.abs(v - red[i]) < 1e-9));
});

test('gaussian blur: sigma 0 leaves an image unchanged, constants stay constant, each image its own sigma', () => {
  const { data, x } = randomImages(3, 6, 6, 5);
  assert.ok(Math.abs(gaussianKernel1d(5, 1.2).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const out = gaussianBlur(x, [0, 1.5, 0], 5);
  const actual = out.dataSync();
  for (const b of [0, 2]) {
    for (let i = b * 108; i < (b + 1) * 108; i++) assert.ok(Math.abs(actual[i] - data[i]) < 1e-6);
  }
  const blurredDiff = Array.from({ length: 108 }, (_, i) => Math.abs(actual[108 + i] - data[108 + i]));
  assert.ok(Math.max(...blurredDiff) > 0.05);
  const flat = tf.fill([2, 6, 6, 3], 0.25) as tf.Tensor4D;
  const flatOut = gaussianBlur(flat, [2, 0.5], 5);
  assert.ok(Array.from(flatOut.dataSync()).every((v) => Math.abs(v - 0.25) < 1e-6));
  tf.dispose([x, out, flat, flatOut]);
});
