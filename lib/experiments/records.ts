import type { BackendName } from '../config/types';

/** How an encoder was trained or evaluated; each is one line of the results tables. */
export type Method =
  | 'simclr-knn'          // weighted kNN on frozen SimCLR features, k chosen on validation
  | 'simclr-linear'       // linear probe on frozen SimCLR features
  | 'simclr-finetune'     // SimCLR encoder fine-tuned with labels, learning rate chosen on validation
  | 'simclr-lpft'         // LP-FT: fine-tuning that starts from the linear probe's classifier (Kumar et al. 2022)
  | 'supervised-resnet'   // same architecture trained from scratch
  | 'supervised-resnet-matched' // same, given as many training images as SimCLR pretraining plus its probe (equal compute)
  | 'supervised-cnn'      // the basic CNN trained from scratch
  | 'random-linear'       // linear probe on a randomly initialised encoder (the floor)
  | 'simclr-checkpoint-linear'    // linear probe of an encoder saved part-way through pretraining (`pretrainEpoch`)
  | 'simclr-fixed-subset-linear'  // ablation: pretrained on a fixed random subset, linear probe
  | 'simclr-fresh-subset-linear'  // ablation: pretrained on a fresh random subset each epoch, linear probe
  | 'simclr-all-chunked-linear';  // ablation: pretrained on all images for as many steps (f x E plain epochs), linear probe

/** The ablation's arms and their methods, the arm the others are compared with first. */
export const ABLATION_ARMS = [
  { mode: 'fresh-subset', method: 'simclr-fresh-subset-linear' },
  { mode: 'fixed-subset', method: 'simclr-fixed-subset-linear' },
  { mode: 'all-chunked', method: 'simclr-all-chunked-linear' },
] as const;

/** Hyperparameters a run chose on the validation split, with the grid it chose from. */
export interface RunChoice {
  /** fine-tuning and LP-FT: the learning rate used */
  learningRate?: number;
  lrGrid?: Array<{ learningRate: number; valAccuracy: number }>;
  /** kNN: the k used */
  k?: number;
  kGrid?: Array<{ k: number; valAccuracy: number }>;
}

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
  /** best validation accuracy, in [0, 1] (kNN: at the chosen k) */
  valAccuracy: number;
  /** loop epochs (evaluation rounds) whose weights were kept (best validation accuracy) */
  selectedEpoch: number | null;
  /** loop epochs (evaluation rounds) run */
  epochsRun: number;
  /** real epochs: passes over the labelled subset done */
  realEpochs: number;
  /** real epochs done when the kept weights were reached */
  epochsToBest: number | null;
  /** optimizer steps */
  steps: number;
  /** training images (or feature rows) the steps consumed, repeats counted */
  imagesSeen: number;
  /** the run ended on a validation plateau (lib/eval/convergence.ts `reachedPlateau`); null when it trains nothing or evaluated once */
  plateau: boolean | null;
  /** labelled training images */
  labelledCount: number;
  wallSeconds: number;
  imagesPerSecond: number;
  /** per test image (in split order), 1 bit each, 1 = right; base64. For bootstrap intervals paired over test images */
  testCorrect: string;
  /** hyperparameters chosen on validation */
  choice?: RunChoice;
  /** encoder of a pretraining checkpoint: the pretraining epoch it was saved at */
  pretrainEpoch?: number;
  backend: BackendName;
  /** identity of the run: its full configuration and, for runs from a pretrained encoder, that encoder's configuration (`supervisedRunHash`) */
  configHash: string;
  /** archived copy of the run's history (history.jsonl, step-lr.json, result.json), relative to the project root; the checkpoint stays in the runs folder */
  runDir: string;
  /** data the run was measured on: the fingerprint of the imported CIFAR-10 copy */
  dataFingerprint: string;
}
