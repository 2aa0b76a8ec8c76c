import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../config/types';
import { isNormOrBias, weightDecayOf } from './decay';
import type { Optimizer } from './optimizer';
import { disposeSlots, makeSlots, slotOf, withParams } from './slots';

/**
 * LARS (You et al. 2017) in the form SimCLR uses: each parameter tensor's step is scaled by a
 * trust ratio, so every layer moves by about the same fraction of its norm whatever its gradient scale:
 *   r = eta ||w|| / ||g + wd w||   (r = 1 when ||w|| or the denominator is 0), the norm of the
 *   decayed gradient as in SimCLR's `LARSOptimizer` (not ||g|| + wd ||w||, which is larger unless g and w align);
 *   v <- mu v + lr r (g + wd w);  w <- w - u,  where u = v, or u = mu v + lr r (g + wd w) (Nesterov).
 * The learning rate sits inside the momentum buffer, as in SimCLR's `LARSOptimizer`. When
 * `config.decayExcludesNormAndBias`, batch-norm parameters and biases get neither decay nor the
 * trust ratio (r = 1: plain momentum SGD), as in SimCLR. Slots: `<path>/momentum` (none when momentum is 0).
 */
export class LarsOptimizer implements Optimizer {
  readonly slots: Map<string, tf.Variable>;
  step = 0;

  constructor(private readonly config: OptimizerConfig, private readonly params: Map<string, tf.Variable>) {
    this.slots = makeSlots(params, config.momentum > 0 ? ['momentum'] : []);
  }

  applyGradients(grads: Map<string, tf.Tensor>, learningRate: number): void {
    const { momentum, nesterov } = this.config;
    tf.tidy(() => {
      for (const [name, w, g] of withParams(this.params, grads)) {
        const wd = weightDecayOf(name, this.config);
        const adapted = !(this.config.decayExcludesNormAndBias && isNormOrBias(name));
        const decayed = g.add(w.mul(wd));
        const ratio = adapted ? trustRatio(w, decayed, this.config.larsEta) : tf.scalar(1);
        const scaledStep = decayed.mul(ratio.mul(learningRate));
        let update = scaledStep;
        if (momentum > 0) {
          const v = slotOf(this.slots, name, 'momentum');
          v.assign(v.mul(momentum).add(scaledStep));
          update = nesterov ? v.mul(momentum).add(scaledStep) : v;
        }
        w.assign(w.sub(update));
      }
    });
    this.step += 1;
  }

  dispose(): void {
    disposeSlots(this.slots);
  }
}

/**
 * LARS trust ratio eta ||w|| / ||d|| as a scalar tensor, where d = g + wd w is the decayed gradient;
 * 1 where it is undefined (new or zero weights, zero step).
 */
export function trustRatio(w: tf.Tensor, decayedGrad: tf.Tensor, eta: number): tf.Scalar {
  return tf.tidy(() => {
    const wNorm = tf.norm(w);
    const denominator = tf.norm(decayedGrad);
    const defined = tf.logicalAnd(wNorm.greater(0), denominator.greater(0));
    // Dividing by max(denominator, tiny) keeps the unused branch of `where` finite.
    const ratio = wNorm.mul(eta).div(denominator.maximum(1e-30));
    return tf.where(defined, ratio, tf.onesLike(ratio)) as tf.Scalar;
  });
}
