import type { BackendName } from '../config/types';

/** How an encoder was trained or evaluated; each is one line of the results tables. */
export type Method =
  | 'simclr-knn'          // weighted kNN on frozen SimCLR features
  | 'simclr-linear'       // linear probe on frozen SimCLR features
  | 'simclr-finetune'     // SimCLR encoder fine-tuned with labels
  | 'supervised-resnet'   // same architecture trained from scratch
  | 'supervised-cnn'      // the basic CNN trained from scratch
  | 'random-linear'       // linear probe on a randomly initialised encoder (the floor)
  | 'simclr-fixed-subset-linear'  // ablation: pretrained on a fixed random subset, linear probe
  | 'simclr-fresh-subset-linear'; // ablation: pretrained on a fresh random subset each epoch, linear probe

/** One tidy record per run; tables and figures are pivots of these. Written to results/<preset>/. */
export interface RunRecord {
  method: Method;
  /** labelled fraction as a percentage: 100, 50, 10, 1 */
  labelPct: number;
  seed: number;
  preset: string;
  /** test-set metrics, in [0, 1], measured once with the model selected on validation */
  testAccuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClassF1: number[];
  /** confusion matrix, rows = true class, columns = predicted */
  confusion: number[][];
  /** best validation accuracy, in [0, 1] */
  valAccuracy: number;
  /** first epoch whose validation accuracy reached 99% of the run's best (null when not applicable) */
  convergenceEpoch: number | null;
  /** epoch whose weights were kept (best validation accuracy) */
  selectedEpoch: number | null;
  epochsRun: number;
  wallSeconds: number;
  imagesPerSecond: number;
  backend: BackendName;
  /** identity of the run: its full configuration and, for runs from a pretrained encoder, that encoder's configuration (`supervisedRunHash`) */
  configHash: string;
  /** archived copy of the run's history (history.jsonl, step-lr.json, result.json), relative to the project root; the checkpoint stays in the runs folder */
  runDir: string;
  /** data the run was measured on: the fingerprint of the imported CIFAR-10 copy */
  dataFingerprint: string;
}
