/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1).
 * Symbols: projections z (two views of N images), temperature tau.
 */
import * as tf from '@tensorflow/tfjs';

/** Added to the self-similarity logits so that exp() of them is 0 (SimCLR's LARGE_NUM). */
const SELF_MASK = 1e9;

export interface NtXentResult {
  /** mean loss over the 2N rows, scalar */
  loss: tf.Scalar;
  /** fraction of rows whose most similar other row is their positive (top-1), scalar in [0, 1] */
  positiveAccuracy: tf.Scalar;
}

/**
 * NT-Xent loss and positive-pair accuracy of projections z1, z2 [N, d] (row i of z1 and of z2 are
 * the two views of image i). Rows are L2-normalised; each of the 2N rows is a softmax
 * classification of its positive among the 2N - 1 other rows, with logits cos-similarity / tau.
 * N = 1 gives loss 0 (only the positive remains). Call inside tf.tidy or dispose both scalars.
 */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): NtXentResult {
  const n = z1.shape[0];
  // Row i's positive is row i + N (and the reverse), as plain ints.
  const positives = Array.from({ length: 2 * n }, (_, i) => (i + n) % (2 * n));
  return tf.tidy(() => {
    const z = tf.concat([z1, z2], 0); // [2N, d]
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(z), 1, true), 1e-12)); // [2N, 1]
    const zn = tf.div(z, norm); // [2N, d]
    const similarity = tf.div(tf.matMul(zn, zn, false, true), temperature); // [2N, 2N]
    const logits = tf.sub(similarity, tf.mul(tf.eye(2 * n), SELF_MASK)); // [2N, 2N]
    const targets = tf.oneHot(tf.tensor1d(positives, 'int32'), 2 * n); // [2N, 2N]
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    const hits = tf.equal(tf.argMax(logits, 1), tf.tensor1d(positives, 'int32')); // [2N]
    const positiveAccuracy = tf.mean(tf.cast(hits, 'float32')) as tf.Scalar;
    return { loss, positiveAccuracy };
  });
}

/** NT-Xent loss of projections z1, z2 [N, d] with temperature tau; see `ntXent`. Returns a scalar. */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => ntXent(z1, z2, temperature).loss);
}
