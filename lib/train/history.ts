/**
 * Plain-data history of a run: one `EpochRecord` per epoch (also written as a JSON line to
 * `history.jsonl` in the run folder) and one learning rate per optimizer step.
 */
export interface EpochRecord {
  /** 1-based epoch number */
  epoch: number;
  /** mean training loss over the epoch's steps */
  trainLoss: number;
  /** accuracy on the validation split, in [0, 1] (supervised: classifier; pretraining: kNN monitor when run) */
  valAccuracy?: number;
  /** pretraining: weighted kNN accuracy on the validation split */
  knnAccuracy?: number;
  /** pretraining: online linear probe accuracy on the validation split */
  onlineProbeAccuracy?: number;
  /** pretraining: std of L2-normalised embeddings per dimension, averaged (collapse -> 0; healthy ~ 1/sqrt(d)) */
  embeddingStd?: number;
  /** learning rate at the end of the epoch */
  learningRate: number;
  /** optimizer steps done so far in the run */
  steps: number;
  /** images per second during the epoch's training steps */
  imagesPerSecond: number;
  /** wall seconds of the epoch, evaluation included */
  seconds: number;
}

export interface RunHistory {
  epochs: EpochRecord[];
  /** learning rate of every optimizer step, in order */
  stepLearningRates: number[];
}
