import type { OptimizerConfig } from '../config/types';

/**
 * True for batch-norm scales and shifts and for biases, recognised by the last part of the
 * variable path: `<path>.gamma`, `<path>.beta`, `<path>.bias` (the naming the models follow).
 */
export function isNormOrBias(name: string): boolean {
  return name.endsWith('.gamma') || name.endsWith('.beta') || name.endsWith('.bias');
}

/** Weight-decay coefficient of the variable `name`: 0 for norm and bias parameters when the config excludes them. */
export function weightDecayOf(name: string, config: OptimizerConfig): number {
  return config.decayExcludesNormAndBias && isNormOrBias(name) ? 0 : config.weightDecay;
}
