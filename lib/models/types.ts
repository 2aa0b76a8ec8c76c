import type * as tf from '@tensorflow/tfjs';

/**
 * A network piece (encoder, projection head, classifier) written as plain functions over named
 * variables, so freezing, saving, loading and optimizing are operations on those maps.
 */
export interface Module {
  /** what it is, e.g. "resnet(width=16, blocks=2-2-2)"; saved with the weights */
  readonly description: string;
  /** architecture as plain data; loading weights into a module whose spec differs is an error */
  readonly spec: Record<string, unknown>;
  /** trainable variables by stable path, e.g. "stage1.block0.conv1.kernel" */
  readonly trainable: Map<string, tf.Variable>;
  /** non-trainable state by stable path (batch-norm running mean and variance) */
  readonly state: Map<string, tf.Variable>;
  /**
   * Forward pass. With `training` true, batch norm uses batch statistics and updates its running
   * statistics; otherwise it uses the running statistics. Does not dispose `x`.
   */
  apply(x: tf.Tensor, training: boolean): tf.Tensor;
  /** releases every variable */
  dispose(): void;
}

/** An encoder f: images [B, 32, 32, 3] in [0, 1] -> features h [B, featureDim]. */
export interface Encoder extends Module {
  readonly featureDim: number;
}
