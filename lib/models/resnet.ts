/**
 * ResNet encoder with the CIFAR stem (He et al. 2016; SimCLR appendix B.9): a 3x3 stride-1 stem
 * and no max-pool, so 32x32 images keep their resolution into the first stage.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAddRelu, hasFusedAddRelu } from 'tfjs-backend-onnx';
import type { EncoderConfig } from '../config/types';
import type { Rng } from '../util/random';
import { batchNorm, conv2d, disposeVariables, emptyVariables, globalAveragePool, relu, type ModuleVariables } from './layers';
import type { Encoder } from './types';

/** CIFAR-10 training-set channel statistics; the encoder normalises its [0, 1] input with them. */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];

/** Subtracts the CIFAR-10 channel mean and divides by the std: [B, H, W, 3] -> [B, H, W, 3]. */
export function normalizeCifar(x: tf.Tensor4D): tf.Tensor4D {
  return tf.div(tf.sub(x, CIFAR10_MEAN), CIFAR10_STD);
}

type Block = (x: tf.Tensor4D, training: boolean) => tf.Tensor4D;

/** conv3x3 - BN - ReLU - conv3x3 - BN, plus the identity (or a 1x1 conv - BN when the shape changes), then ReLU. */
function basicBlock(
  vars: ModuleVariables, path: string, inChannels: number, outChannels: number, stride: number, rng: Rng,
): Block {
  const conv1 = conv2d(vars, `${path}.conv1`, { inChannels, outChannels, kernelSize: 3, stride }, rng);
  const bn1 = batchNorm(vars, `${path}.bn1`, outChannels);
  const conv2 = conv2d(vars, `${path}.conv2`, { inChannels: outChannels, outChannels, kernelSize: 3, stride: 1 }, rng);
  const bn2 = batchNorm(vars, `${path}.bn2`, outChannels);
  const needsProjection = stride !== 1 || inChannels !== outChannels;
  const shortcutConv = needsProjection
    ? conv2d(vars, `${path}.shortcut.conv`, { inChannels, outChannels, kernelSize: 1, stride }, rng)
    : undefined;
  const shortcutBn = needsProjection ? batchNorm(vars, `${path}.shortcut.bn`, outChannels) : undefined;

  return (x, training) => {
    const h = bn1(conv1(x), training, 'relu');
    const residual = bn2(conv2(h), training);
    const shortcut = shortcutConv && shortcutBn ? shortcutBn(shortcutConv(x), training) : x;
    return hasFusedAddRelu() ? fusedAddRelu(residual, shortcut) : relu(tf.add(residual, shortcut));
  };
}

/**
 * Builds a ResNet encoder f: images [B, 32, 32, 3] in [0, 1] -> features h [B, width * 2^(stages-1)].
 * Stage s (1-based) has width * 2^(s-1) channels; its first block has stride 2 except in stage 1.
 * ResNet-18 is width 64, blocksPerStage [2, 2, 2, 2] (11.17M parameters, 512 features).
 * Arguments are assumed valid; `makeEncoder` checks them.
 */
export function makeResNetEncoder(config: EncoderConfig, rng: Rng): Encoder {
  const { width, blocksPerStage } = config;
  const vars = emptyVariables();
  const stemConv = conv2d(vars, 'stem.conv', { inChannels: 3, outChannels: width, kernelSize: 3, stride: 1 }, rng);
  const stemBn = batchNorm(vars, 'stem.bn', width);

  const blocks: Block[] = [];
  let channels = width;
  blocksPerStage.forEach((count, s) => {
    const outChannels = width * 2 ** s;
    for (let b = 0; b < count; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      blocks.push(basicBlock(vars, `stage${s + 1}.block${b}`, channels, outChannels, stride, rng));
      channels = outChannels;
    }
  });
  const featureDim = channels;

  return {
    description: `resnet(width=${width}, blocks=${blocksPerStage.join('-')})`,
    spec: { kind: 'resnet', width, blocksPerStage: [...blocksPerStage], featureDim },
    trainable: vars.trainable,
    state: vars.state,
    featureDim,
    apply: (x, training) =>
      tf.tidy(() => {
        let h = stemBn(stemConv(normalizeCifar(x as tf.Tensor4D)), training, 'relu');
        for (const block of blocks) h = block(h, training);
        return globalAveragePool(h); // [B, featureDim]
      }),
    dispose: () => disposeVariables(vars),
  };
}
