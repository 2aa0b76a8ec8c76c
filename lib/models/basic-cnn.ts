/**
 * The "basic CNN" baseline: three conv3x3-BN-ReLU-maxpool(2x2) layers of width, 2 x width and
 * 4 x width channels, then one fully connected hidden layer whose ReLU output is the features, so
 * the same classifier head and training loop apply as for the ResNet.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderConfig } from '../config/types';
import type { Rng } from '../util/random';
import { batchNorm, conv2d, dense, disposeVariables, emptyVariables, relu } from './layers';
import { normalizeCifar } from './resnet';
import type { Encoder } from './types';

/** Input side the encoder is built for, pixels (CIFAR-10). */
const IMAGE_SIZE = 32;
/** Hidden units per unit of width: width 32 gives 512 features, as many as ResNet-18. */
const HIDDEN_PER_WIDTH = 16;

/**
 * Builds the basic CNN encoder f: images [B, 32, 32, 3] in [0, 1] -> features h [B, 16 x width].
 * Arguments are assumed valid; `makeEncoder` checks them.
 */
export function makeBasicCnnEncoder(config: EncoderConfig, rng: Rng): Encoder {
  const { width } = config;
  const vars = emptyVariables();
  const widths = [width, 2 * width, 4 * width];
  const convs = widths.map((outChannels, i) => ({
    conv: conv2d(vars, `conv${i + 1}.conv`, {
      inChannels: i === 0 ? 3 : widths[i - 1], outChannels, kernelSize: 3, stride: 1,
    }, rng),
    bn: batchNorm(vars, `conv${i + 1}.bn`, outChannels),
  }));
  const side = IMAGE_SIZE / 2 ** widths.length;
  const flatDim = side * side * widths[widths.length - 1];
  const featureDim = HIDDEN_PER_WIDTH * width;
  const hidden = dense(vars, 'hidden', { inDim: flatDim, outDim: featureDim, bias: true }, rng);

  return {
    description: `basic-cnn(width=${width})`,
    spec: { kind: 'basic-cnn', width, featureDim },
    trainable: vars.trainable,
    state: vars.state,
    featureDim,
    apply: (x, training) =>
      tf.tidy(() => {
        let h = normalizeCifar(x as tf.Tensor4D);
        for (const { conv, bn } of convs) h = tf.maxPool(bn(conv(h), training, 'relu'), 2, 2, 'valid');
        const flat = tf.reshape(h, [h.shape[0], flatDim]) as tf.Tensor2D; // [B, 4 * 4 * 4 * width]
        return relu(hidden(flat)); // [B, featureDim]
      }),
    dispose: () => disposeVariables(vars),
  };
}
