import type { EarlyStoppingConfig } from '../config/types';

/** The plateau test of the study: how much of a run's end counts as its tail, and how much gain there still counts as rising. */
export const PLATEAU_TAIL_FRACTION = 0.2;
/** absolute accuracy, in [0, 1]: 0.005 = half a point */
export const PLATEAU_TOLERANCE = 0.005;

/**
 * Whether a run ended on a validation plateau: its best accuracy over the last `tailFraction` of
 * its evaluations is within `tolerance` of its best before them (a tail that is lower, as when a
 * run overfits, counts as a plateau). Null when the run has fewer than two finite evaluations, too
 * few to say.
 * @param valAccuracies one per evaluation, in order
 */
export function reachedPlateau(valAccuracies: number[], tailFraction = PLATEAU_TAIL_FRACTION, tolerance = PLATEAU_TOLERANCE): boolean | null {
  const finite = valAccuracies.filter(Number.isFinite);
  if (finite.length < 2) return null;
  const tail = Math.min(finite.length - 1, Math.max(1, Math.round(tailFraction * finite.length)));
  const before = Math.max(...finite.slice(0, finite.length - tail));
  const after = Math.max(...finite.slice(finite.length - tail));
  return after - before <= tolerance + TOLERANCE;
}

/** A point of a validation curve: accuracy after so many optimizer steps and wall seconds. */
export interface CurvePoint {
  valAccuracy: number;
  steps: number;
  seconds: number;
}

/**
 * The first point of `curve` whose accuracy reaches `target` (a fixed level, e.g. 90 % of the best
 * method's validation accuracy at the label budget), or null when the run never gets there. Steps
 * and seconds, unlike epochs, mean the same for every method and label budget.
 */
export function timeToAccuracy(curve: CurvePoint[], target: number): { steps: number; seconds: number } | null {
  const hit = curve.find((p) => Number.isFinite(p.valAccuracy) && p.valAccuracy >= target - TOLERANCE);
  return hit ? { steps: hit.steps, seconds: hit.seconds } : null;
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
