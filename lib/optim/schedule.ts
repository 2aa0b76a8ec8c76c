import type { OptimizerConfig } from '../config/types';

/**
 * Learning rate of optimizer step `step` (0-based): linear warm-up from peak / warmupSteps to the
 * peak over the first `warmupSteps` steps, then a half cosine from the peak down to
 * `finalLrFraction` x peak, reached at step `totalSteps` (or the peak held, for 'constant').
 * SimCLR (Chen et al. 2020, appendix B.1) and nanoGPT use this shape.
 */
export function learningRateAt(step: number, totalSteps: number, warmupSteps: number, config: OptimizerConfig): number {
  const peak = config.learningRate;
  // Counting from step + 1 makes the first step small but not zero, and the last warm-up step the peak.
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  if (config.schedule === 'constant') return peak;
  const final = config.finalLrFraction * peak;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps)); // in [0, 1]
  return final + 0.5 * (peak - final) * (1 + Math.cos(Math.PI * progress));
}
