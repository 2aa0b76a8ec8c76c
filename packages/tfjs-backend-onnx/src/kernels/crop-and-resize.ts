/**
 * CropAndResize (bilinear): the crop of every augmentation (lib/augment/resample.ts), one box per
 * image. The cpu kernel computes each output element's four source indices from strides and
 * allocates a fresh output. Here the column positions are worked out once per box, rows once per
 * output row, and the output is a pooled buffer: the two SimCLR views of a batch of 128 went from
 * 41 to 29 ms on the quick preset (`npx tsx lib/augment/bench-augment.ts onnx quick 128`). The arithmetic is the cpu kernel's, operation for operation (float64 on float32
 * inputs, rounded on store), so the results are bit-identical to it.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { withFallback } from './kernel-utils';

/** Per output column of one box: source offsets (pixel index * channels) and the weight of the right pixel; left < 0 outside the image. */
interface Columns {
  left: Int32Array;
  right: Int32Array;
  lerp: Float64Array;
}

/** Where each output column of a box samples the image (the cpu kernel's xInd, floor, ceil). */
function boxColumns(x1: number, x2: number, imageWidth: number, cropWidth: number, channels: number, out: Columns): void {
  const widthScale = cropWidth > 1 ? ((x2 - x1) * (imageWidth - 1)) / (cropWidth - 1) : 0;
  for (let x = 0; x < cropWidth; x++) {
    const xInd = cropWidth > 1 ? x1 * (imageWidth - 1) + x * widthScale : 0.5 * (x1 + x2) * (imageWidth - 1);
    if (xInd < 0 || xInd > imageWidth - 1) {
      out.left[x] = -1;
      continue;
    }
    const leftInd = Math.floor(xInd);
    out.left[x] = leftInd * channels;
    out.right[x] = Math.ceil(xInd) * channels;
    out.lerp[x] = xInd - leftInd;
  }
}

interface Sizes {
  imageHeight: number;
  imageWidth: number;
  channels: number;
  cropHeight: number;
  cropWidth: number;
  extrapolationValue: number;
}

/**
 * The loops, in a function of their own: inside the kernel, V8 compiled them on the stack and
 * deoptimised that code over the statements after them, again and again.
 */
function resizeBoxes(imageVals: Float32Array, boxVals: Float32Array, boxIndVals: Int32Array, out: Float32Array, sizes: Sizes): void {
  const { imageHeight, imageWidth, channels, cropHeight, cropWidth, extrapolationValue } = sizes;
  const numBoxes = boxIndVals.length;
  const columns: Columns = { left: new Int32Array(cropWidth), right: new Int32Array(cropWidth), lerp: new Float64Array(cropWidth) };
  const rowStride = imageWidth * channels;
  const outRowStride = cropWidth * channels;
  for (let b = 0; b < numBoxes; b++) {
    const [y1, x1, y2, x2] = [boxVals[4 * b], boxVals[4 * b + 1], boxVals[4 * b + 2], boxVals[4 * b + 3]];
    const imageBase = boxIndVals[b] * imageHeight * rowStride;
    boxColumns(x1, x2, imageWidth, cropWidth, channels, columns);
    const heightScale = cropHeight > 1 ? ((y2 - y1) * (imageHeight - 1)) / (cropHeight - 1) : 0;
    for (let y = 0; y < cropHeight; y++) {
      const outRow = (b * cropHeight + y) * outRowStride;
      const yInd = cropHeight > 1 ? y1 * (imageHeight - 1) + y * heightScale : 0.5 * (y1 + y2) * (imageHeight - 1);
      if (yInd < 0 || yInd > imageHeight - 1) {
        out.fill(extrapolationValue, outRow, outRow + outRowStride);
        continue;
      }
      const topInd = Math.floor(yInd);
      const top = imageBase + topInd * rowStride;
      const bottom = imageBase + Math.ceil(yInd) * rowStride;
      const yLerp = yInd - topInd;
      for (let x = 0; x < cropWidth; x++) {
        const o = outRow + x * channels;
        const left = columns.left[x];
        if (left < 0) {
          out.fill(extrapolationValue, o, o + channels);
          continue;
        }
        const right = columns.right[x];
        const xLerp = columns.lerp[x];
        for (let c = 0; c < channels; c++) {
          const topLeft = imageVals[top + left + c];
          const topRight = imageVals[top + right + c];
          const bottomLeft = imageVals[bottom + left + c];
          const bottomRight = imageVals[bottom + right + c];
          const upper = topLeft + (topRight - topLeft) * xLerp;
          const lower = bottomLeft + (bottomRight - bottomLeft) * xLerp;
          out[o + c] = upper + (lower - upper) * yLerp;
        }
      }
    }
  }
}

function cropAndResizeBilinear(backend: OnnxBackend, image: tf.TensorInfo, boxes: tf.TensorInfo, boxInd: tf.TensorInfo, attrs: tf.CropAndResizeAttrs): tf.TensorInfo | undefined {
  if (attrs.method !== 'bilinear' || image.dtype !== 'float32' || boxes.dtype !== 'float32' || image.shape.length !== 4) return undefined;
  const [batch, imageHeight, imageWidth, channels] = image.shape;
  const [cropHeight, cropWidth] = attrs.cropSize;
  const boxVals = backend.float32(boxes);
  const boxIndVals = backend.data.get(boxInd.dataId).values as Int32Array;
  const numBoxes = boxes.shape[0];
  // A box naming no image: the cpu kernel leaves zeros (or reads out of range); let it decide.
  for (let b = 0; b < numBoxes; b++) if (!(boxIndVals[b] >= 0 && boxIndVals[b] < batch)) return undefined;
  const out = backend.output([numBoxes, cropHeight, cropWidth, channels]);
  resizeBoxes(backend.float32(image), boxVals, boxIndVals, out, { imageHeight, imageWidth, channels, cropHeight, cropWidth, extrapolationValue: attrs.extrapolationValue });
  return backend.makeTensorInfo([numBoxes, cropHeight, cropWidth, channels], 'float32', out);
}

export const cropAndResize = withFallback<tf.CropAndResizeAttrs>(tf.CropAndResize, ({ inputs, backend, attrs }) =>
  cropAndResizeBilinear(backend, inputs.image, inputs.boxes, inputs.boxInd, attrs));
