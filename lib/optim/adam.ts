import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../config/types';
import { weightDecayOf } from './decay';
import type { Optimizer } from './optimizer';
import { disposeSlots, makeSlots, slotOf, withParams } from './slots';

/** decay of the squared-gradient average (Kingma & Ba 2015 default) */
const BETA2 = 0.999;
/** added to the denominator so a zero second moment does not divide by zero */
const EPSILON = 1e-8;

/**
 * Adam with decoupled weight decay (AdamW, Loshchilov & Hutter 2019; PyTorch's `AdamW`). With
 * beta1 = `config.momentum` and t = step + 1:
 *   m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2;
 *   w <- w - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps) - lr wd w.
 * The decay acts on the weights, not through the gradient, so it is not rescaled by 1/sqrt(s);
 * it is multiplied by the learning rate, hence AdamW's larger usual values (1e-2 to 5e-2).
 * Slots: `<path>/m`, `<path>/s`.
 */
export class AdamOptimizer implements Optimizer {
  readonly slots: Map<string, tf.Variable>;
  step = 0;

  constructor(private readonly config: OptimizerConfig, private readonly params: Map<string, tf.Variable>) {
    this.slots = makeSlots(params, ['m', 's']);
  }

  applyGradients(grads: Map<string, tf.Tensor>, learningRate: number): void {
    const beta1 = this.config.momentum;
    const t = this.step + 1;
    const mCorrection = 1 - beta1 ** t;
    const sCorrection = 1 - BETA2 ** t;
    tf.tidy(() => {
      for (const [name, w, g] of withParams(this.params, grads)) {
        const m = slotOf(this.slots, name, 'm');
        const s = slotOf(this.slots, name, 's');
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        s.assign(s.mul(BETA2).add(g.square().mul(1 - BETA2)));
        const adamStep = m.div(mCorrection).div(s.div(sCorrection).sqrt().add(EPSILON));
        const decay = w.mul(weightDecayOf(name, this.config));
        w.assign(w.sub(adamStep.add(decay).mul(learningRate)));
      }
    });
    this.step += 1;
  }

  dispose(): void {
    disposeSlots(this.slots);
  }
}
