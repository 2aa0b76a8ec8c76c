/**
 * Crop-and-resize of a whole batch, one box per image, through `tf.image.cropAndResize`
 * (bilinear; the box's corner pixels map to the output's corner pixels).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * A crop in pixels of the source image; `flip` mirrors the output left-right. The box may reach
 * outside the image: samples that fall outside read as 0 (zero padding).
 */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
  flip: boolean;
}

/**
 * Largest inward shift of a sample, pixels. cropAndResize fills a sample that lands outside the
 * image with 0 instead of the edge pixel, and its float arithmetic (float32 on wasm) can put a
 * sample meant for the edge pixel a few 1e-6 pixel outside. Positions are therefore pulled towards
 * the image centre by at most this much, which keeps edge samples inside and samples meant to be
 * outside (zero padding, whole pixels away) outside.
 */
const EDGE_MARGIN = 1e-4;

/** Normalised [start, end] of one axis of a box, for cropAndResize. */
function boxEnds(start: number, length: number, size: number, extent: number): [number, number] {
  // The whole axis at the same size samples exact integers (identity): no pull needed.
  const exact = start === 0 && length === extent && size === extent;
  const centre = (extent - 1) / 2;
  const keep = exact ? 1 : 1 - EDGE_MARGIN / centre;
  const normalised = (p: number) => (centre + (p - centre) * keep) / (extent - 1);
  return [normalised(start), normalised(start + length - 1)];
}

/**
 * Crops box b of image b and resizes it bilinearly to outHeight x outWidth:
 * x [B, H, W, C] -> [B, outHeight, outWidth, C]. Does not dispose `x`.
 */
export function cropResize(x: tf.Tensor4D, boxes: CropBox[], outHeight: number, outWidth: number): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  if (boxes.length !== batch) throw new Error(`cropResize: ${boxes.length} boxes for a batch of ${batch}`);
  const coords = new Float32Array(batch * 4);
  boxes.forEach((box, b) => {
    const [y1, y2] = boxEnds(box.top, box.height, outHeight, height);
    const [x1, x2] = boxEnds(box.left, box.width, outWidth, width);
    // cropAndResize mirrors a box whose x1 > x2.
    coords.set(box.flip ? [y1, x2, y2, x1] : [y1, x1, y2, x2], b * 4);
  });
  return tf.tidy(() => {
    const boxTensor = tf.tensor2d(coords, [batch, 4]); // [B, 4]: y1, x1, y2, x2
    const boxIndices = tf.range(0, batch, 1, 'int32'); // box b crops image b
    return tf.image.cropAndResize(x, boxTensor, boxIndices, [outHeight, outWidth], 'bilinear', 0);
  });
}
