/**
 * Kernels the wasm backend lacks, written with ops it has: UnsortedSegmentSum (the gradient of
 * tf.gather) and Einsum (tf.image.rgbToGrayscale).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Sums the rows of x that share a segment id; ids outside [0, numSegments) are dropped, as in
 * TensorFlow. x [...idShape, ...rest], segmentIds idShape (int32) -> [numSegments, ...rest].
 */
export function unsortedSegmentSum(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const rest = x.shape.slice(segmentIds.rank);
    const ids = tf.reshape(segmentIds, [-1]); // [n]
    const rows = tf.reshape(x, [ids.size, ...rest]); // [n, ...rest]
    const valid = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments)); // [n]
    // ScatterNd adds rows that share an index; invalid ids are sent to row 0 with a zero update
    const safeIds = tf.where(valid, ids, tf.zerosLike(ids));
    const keep = tf.reshape(tf.cast(valid, x.dtype), [ids.size, ...rest.map(() => 1)]); // [n, 1, ...]
    return tf.scatterND(tf.reshape(safeIds, [-1, 1]), tf.mul(rows, keep), [numSegments, ...rest]);
  });
}

/**
 * Einstein summation by the same plan as tfjs's cpu kernel: align every operand to all indices
 * (transpose + reshape), multiply, and sum out each summed index once nothing else needs it.
 */
export function einsum(equation: string, operands: tf.Tensor[]): tf.Tensor {
  const bu = tf.backend_util;
  const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, operands.length);
  bu.checkEinsumDimSizes(allDims.length, idDims, operands);
  const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
  return tf.tidy(() => {
    let out: tf.Tensor | null = null;
    let dimsLeft = allDims.length;
    for (let step = 0; step < steps.length; step++) {
      for (const id of steps[step]) {
        const { permutationIndices, expandDims } = bu.getEinsumPermutation(dimsLeft, idDims[id]);
        const permuted = bu.isIdentityPermutation(permutationIndices)
          ? operands[id]
          : tf.transpose(operands[id], permutationIndices);
        const shape = permuted.shape.slice();
        for (const axis of expandDims) shape.splice(axis, 0, 1);
        const aligned = tf.reshape(permuted, shape); // one axis per index still present
        out = out === null ? aligned : tf.mul(aligned, out);
      }
      if (step < steps.length - 1) {
        if (path[step] >= 0 && out !== null) out = tf.sum(out, path[step] - (allDims.length - dimsLeft));
        dimsLeft--;
      }
    }
    if (out === null) throw new Error(`einsum '${equation}': no operands`);
    return out;
  });
}
