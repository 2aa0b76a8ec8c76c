/**
 * PadV2 (constant padding), the gradient of every slice: the SimCLR step slices the two views'
 * embeddings apart, so its backward pass pads three [128, 64] gradients back to [256, 64]. The cpu
 * kernel maps every element through index arrays: 10 ms of a profiled quick SimCLR step
 * (`npx cifar-ssl bench`'s breakdown). Here the input's innermost rows are copied whole into an
 * output filled with the constant. Values are copied, so
 * the result is the cpu kernel's exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from '../backend';
import { withFallback } from './kernel-utils';

function padFloat32(backend: OnnxBackend, x: tf.TensorInfo, { paddings, constantValue }: tf.PadV2Attrs): tf.TensorInfo | undefined {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank === 0 || paddings.length !== rank) return undefined;
  if (paddings.some(([before, after]) => before < 0 || after < 0)) return undefined;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const values = backend.float32(x);
  const out = backend.output(outShape);
  out.fill(constantValue);
  const outStrides = tf.util.computeStrides(outShape);
  const rowLength = x.shape[rank - 1];
  const rows = values.length / Math.max(1, rowLength);
  // Each input row [i0, ..., i(r-2), :] lands at out[i0 + p0, ..., i(r-2) + p(r-2), p(r-1) ...].
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let row = 0; row < rows; row++) {
    let target = paddings[rank - 1][0];
    for (let axis = 0; axis < rank - 1; axis++) target += (index[axis] + paddings[axis][0]) * outStrides[axis];
    out.set(values.subarray(row * rowLength, (row + 1) * rowLength), target);
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++index[axis] < x.shape[axis]) break;
      index[axis] = 0;
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const padV2 = withFallback<tf.PadV2Attrs>(tf.PadV2, ({ inputs, backend, attrs }) => padFloat32(backend, inputs.x, attrs));
