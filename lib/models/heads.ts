/**
 * Heads that sit on the encoder's features: the SimCLR projection head g and a linear classifier.
 */
import * as tf from '@tensorflow/tfjs';
import type { ProjectionHeadConfig } from '../config/types';
import type { Rng } from '../util/random';
import { batchNorm, dense, disposeVariables, emptyVariables } from './layers';
import type { Module } from './types';
import { requirePositiveInteger } from './validate';

/**
 * Projection head g: features h [B, inputDim] -> projections z [B, outputDim], as
 * Linear - BN - ReLU - Linear. SimCLR v1's CIFAR head is Linear - ReLU - Linear; the batch norm
 * (used by SimCLR's own TensorFlow code and by solo-learn) makes training less sensitive to the
 * learning rate, and the first Linear drops its bias because BN follows it.
 */
export function makeProjectionHead(inputDim: number, config: ProjectionHeadConfig, rng: Rng): Module {
  requirePositiveInteger(inputDim, 'projection head input dimension');
  requirePositiveInteger(config.hiddenDim, 'projection head hiddenDim');
  requirePositiveInteger(config.outputDim, 'projection head outputDim');
  const { hiddenDim, outputDim } = config;
  const vars = emptyVariables();
  const hidden = dense(vars, 'hidden', { inDim: inputDim, outDim: hiddenDim, bias: false }, rng);
  const hiddenBn = batchNorm(vars, 'hidden.bn', hiddenDim);
  const output = dense(vars, 'output', { inDim: hiddenDim, outDim: outputDim, bias: true }, rng);
  return {
    description: `projection-head(${inputDim}-${hiddenDim}-${outputDim})`,
    spec: { kind: 'projection-head', inputDim, hiddenDim, outputDim },
    trainable: vars.trainable,
    state: vars.state,
    apply: (h, training) => tf.tidy(() => output(hiddenBn(hidden(h as tf.Tensor2D), training, 'relu'))),
    dispose: () => disposeVariables(vars),
  };
}

/** Linear classifier: features [B, inputDim] -> logits [B, numClasses]. */
export function makeLinearClassifier(inputDim: number, numClasses: number, rng: Rng): Module {
  requirePositiveInteger(inputDim, 'classifier input dimension');
  requirePositiveInteger(numClasses, 'number of classes');
  const vars = emptyVariables();
  const linear = dense(vars, 'linear', { inDim: inputDim, outDim: numClasses, bias: true }, rng);
  return {
    description: `linear-classifier(${inputDim}-${numClasses})`,
    spec: { kind: 'linear-classifier', inputDim, numClasses },
    trainable: vars.trainable,
    state: vars.state,
    apply: (h) => tf.tidy(() => linear(h as tf.Tensor2D)),
    dispose: () => disposeVariables(vars),
  };
}
