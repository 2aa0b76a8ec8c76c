import * as tf from '@tensorflow/tfjs';

/** Rows scaled to unit Euclidean norm, x / max(||x||, 1e-12) as PyTorch's `F.normalize`: [N, D] -> [N, D]. */
export function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => x.div(tf.norm(x, 'euclidean', 1, true).maximum(1e-12)));
}
