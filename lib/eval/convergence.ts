import type { EarlyStoppingConfig } from '../config/types';

/**
 * First epoch (1-based) whose validation accuracy reaches `fraction` of the run's best, a
 * "time to converge" that ignores late small gains; null when there is no finite accuracy.
 * @param valAccuracies one per epoch, in order
 */
export function convergenceEpoch(valAccuracies: number[], fraction = 0.99): number | null {
  const finite = valAccuracies.filter(Number.isFinite);
  if (finite.length === 0) return null;
  const threshold = fraction * Math.max(...finite);
  const index = valAccuracies.findIndex((a) => Number.isFinite(a) && a >= threshold);
  return index + 1;
}

/** What an `EarlyStopper` remembers between epochs; saved in checkpoints. */
export interface EarlyStopperState {
  /** best monitored value so far (null before the first update) */
  best: number | null;
  /** epoch of `best` (null before the first update) */
  bestEpoch: number | null;
}

/** absorbs rounding in differences such as 0.3 - 0.2, which is slightly below 0.1 in floating point */
const TOLERANCE = 1e-9;

/**
 * Early stopping on a validation metric where larger is better (accuracy). An epoch improves when
 * its value exceeds the best so far by more than 0 and by at least `minDelta`; the first value
 * always improves. Training stops once `patience` epochs have passed since the best epoch
 * (epoch - bestEpoch >= patience), so with patience 3 and the best at epoch 5, epoch 8 stops.
 * Patience 0 never stops. Keep the checkpoint of the best epoch, not the last.
 */
export class EarlyStopper {
  private state: EarlyStopperState = { best: null, bestEpoch: null };

  constructor(private readonly config: EarlyStoppingConfig) {}

  static fromJSON(config: EarlyStoppingConfig, state: EarlyStopperState): EarlyStopper {
    const stopper = new EarlyStopper(config);
    stopper.state = { ...state };
    return stopper;
  }

  get best(): number | null {
    return this.state.best;
  }

  get bestEpoch(): number | null {
    return this.state.bestEpoch;
  }

  /** Records `value` for `epoch` (1-based) and says whether it improved and whether to stop. */
  update(epoch: number, value: number): { improved: boolean; stop: boolean } {
    const { best } = this.state;
    const gain = best === null ? Infinity : value - best;
    const improved = Number.isFinite(value) && gain > 0 && gain >= this.config.minDelta - TOLERANCE;
    if (improved) this.state = { best: value, bestEpoch: epoch };
    const since = epoch - (this.state.bestEpoch ?? 0);
    return { improved, stop: this.config.patience > 0 && since >= this.config.patience };
  }

  toJSON(): EarlyStopperState {
    return { ...this.state };
  }
}
