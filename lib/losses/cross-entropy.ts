import * as tf from '@tensorflow/tfjs';

/**
 * Softmax cross-entropy of logits [B, C] against integer labels [B] (int32), mean over the batch.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const targets = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]); // [B, C]
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
