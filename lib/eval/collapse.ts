import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './normalize';

/**
 * Collapse monitor of SimSiam (Chen & He 2021, section 4.1): the standard deviation over examples
 * of each dimension of the L2-normalised embeddings, averaged over dimensions. Embeddings that
 * collapse to one point give 0; spread-out ones give about 1/sqrt(D). Population std (divides by N).
 * @param features [N, D]
 */
export function embeddingStd(features: tf.Tensor2D): number {
  return tf.tidy(() => {
    const { variance } = tf.moments(l2NormalizeRows(features), 0); // [D]
    return variance.sqrt().mean().dataSync()[0];
  });
}
