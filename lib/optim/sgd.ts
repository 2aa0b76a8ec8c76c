import * as tf from '@tensorflow/tfjs';
import { fusedSgdUpdate, hasFusedSgd } from 'tfjs-backend-onnx';
import type { OptimizerConfig } from '../config/types';
import { weightDecayOf } from './decay';
import type { Optimizer } from './optimizer';
import { disposeSlots, makeSlots, slotOf, withParams } from './slots';

/**
 * SGD with momentum, as PyTorch's `torch.optim.SGD` (dampening 0), with L2 weight decay added to the gradient:
 *   g' = g + wd w;  v <- mu v + g';  w <- w - lr u,  where u = v, or u = g' + mu v (Nesterov).
 * Slots: `<path>/momentum` (none when momentum is 0).
 */
export class SgdOptimizer implements Optimizer {
  readonly slots: Map<string, tf.Variable>;
  step = 0;

  constructor(private readonly config: OptimizerConfig, private readonly params: Map<string, tf.Variable>) {
    this.slots = makeSlots(params, config.momentum > 0 ? ['momentum'] : []);
  }

  applyGradients(grads: Map<string, tf.Tensor>, learningRate: number): void {
    const { momentum, nesterov } = this.config;
    const fused = hasFusedSgd();
    tf.tidy(() => {
      for (const [name, w, grad] of withParams(this.params, grads)) {
        if (fused) {
          // One kernel per parameter, same bits as the ops below (packages/tfjs-backend-onnx/src/ops/fused-sgd.ts).
          const v = momentum > 0 ? slotOf(this.slots, name, 'momentum') : undefined;
          const [wNew, vNew] = fusedSgdUpdate(w, grad, v, { learningRate, momentum, weightDecay: weightDecayOf(name, this.config), nesterov });
          w.assign(wNew);
          if (v !== undefined) v.assign(vNew);
          continue;
        }
        const g = grad.add(w.mul(weightDecayOf(name, this.config)));
        let update = g;
        if (momentum > 0) {
          const v = slotOf(this.slots, name, 'momentum');
          v.assign(v.mul(momentum).add(g));
          update = nesterov ? g.add(v.mul(momentum)) : v;
        }
        w.assign(w.sub(update.mul(learningRate)));
      }
    });
    this.step += 1;
  }

  dispose(): void {
    disposeSlots(this.slots);
  }
}
