import type * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../config/types';
import { UsageError } from '../util/errors';
import { AdamOptimizer } from './adam';
import { LarsOptimizer } from './lars';
import { SgdOptimizer } from './sgd';

/**
 * Updates a fixed set of named variables from named gradients. Its state is plain named variables
 * (`slots`) and a step counter, so a checkpoint saves and restores it like the model's weights.
 */
export interface Optimizer {
  /** optimizer state by `<parameter path>/<kind>`, e.g. "stage1.conv.kernel/momentum"; saved in checkpoints */
  readonly slots: Map<string, tf.Variable>;
  /** steps applied so far; set it when restoring a checkpoint */
  step: number;
  /**
   * Applies one step: each gradient updates the parameter of the same name (parameters without a
   * gradient are left alone). Does not dispose `grads`.
   */
  applyGradients(grads: Map<string, tf.Tensor>, learningRate: number): void;
  /** releases the slot variables (not the parameters) */
  dispose(): void;
}

/**
 * Makes the optimizer `config.kind` for `params`. Weight decay skips batch-norm parameters and
 * biases (paths ending in `.gamma`, `.beta`, `.bias`) when `config.decayExcludesNormAndBias`.
 */
export function makeOptimizer(config: OptimizerConfig, params: Map<string, tf.Variable>): Optimizer {
  if (!(config.momentum >= 0 && config.momentum < 1)) {
    throw new UsageError(`optimizer momentum is ${config.momentum}; use a value in [0, 1) (0.9 is usual)`);
  }
  if (!(config.weightDecay >= 0)) {
    throw new UsageError(`weight decay is ${config.weightDecay}; use 0 or a positive value`);
  }
  if (config.nesterov && config.momentum === 0) {
    throw new UsageError('Nesterov momentum needs momentum > 0; set momentum (e.g. 0.9) or turn nesterov off');
  }
  switch (config.kind) {
    case 'sgd':
      return new SgdOptimizer(config, params);
    case 'adam':
      return new AdamOptimizer(config, params);
    case 'lars':
      if (!(config.larsEta > 0)) throw new UsageError(`LARS eta is ${config.larsEta}; use a positive value (SimCLR: 0.001)`);
      return new LarsOptimizer(config, params);
    default:
      throw new UsageError(`unknown optimizer "${(config as { kind: string }).kind}"; use sgd, adam or lars`);
  }
}
