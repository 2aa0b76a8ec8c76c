/**
 * Typed configuration of every protocol of the study. Each field carries its unit. Presets
 * (`presets.ts`) are built by spreading these defaults; nothing reads configuration from globals.
 */

/** Compute engines, fastest first. */
export type BackendName = 'tensorflow' | 'webgpu' | 'onnx' | 'wasm' | 'cpu';

/** Where the data lives and how the held-out validation split is cut. */
export interface DataConfig {
  /** folder that holds (or will hold) `cifar-10-batches-bin/` */
  root: string;
  /** training images per class held out as the validation split (of 5,000 per class) */
  validationPerClass: number;
  /** seed of the validation split and the labelled subsets (fixed across runs, files in data/splits) */
  splitSeed: number;
  /** use only this many training images per class after the validation split (undefined = all); for tiny presets */
  trainPerClassLimit?: number;
  /** use only this many test images per class (undefined = all 1,000) */
  testPerClassLimit?: number;
}

/** Encoder architecture. */
export interface EncoderConfig {
  kind: 'resnet' | 'basic-cnn';
  /** channels of the first stage (ResNet-18: 64); later stages double it */
  width: number;
  /** basic blocks per stage (ResNet-18: [2, 2, 2, 2]); ignored by basic-cnn */
  blocksPerStage: number[];
}

export interface ProjectionHeadConfig {
  /** hidden units of the MLP (SimCLR: 2048) */
  hiddenDim: number;
  /** output dimension of the projections z (SimCLR: 128) */
  outputDim: number;
}

/** Colour jitter strengths; SimCLR's s = 0.5 for CIFAR gives 0.4, 0.4, 0.4, 0.1. */
export interface ColorJitterConfig {
  /** probability of applying colour jitter to a view */
  p: number;
  /** brightness factor range is [max(0, 1 - brightness), 1 + brightness] */
  brightness: number;
  contrast: number;
  saturation: number;
  /** hue shift range is [-hue, +hue] in turns (fraction of the colour wheel) */
  hue: number;
}

/** SimCLR view generation; each operation has its own probability. */
export interface SimclrAugmentConfig {
  /** output size of the random resized crop, pixels */
  cropSize: number;
  /** range of the crop's area as a fraction of the image (SimCLR: [0.08, 1]) */
  cropScale: [number, number];
  /** range of the crop's aspect ratio w/h (SimCLR: [3/4, 4/3]) */
  cropRatio: [number, number];
  /** probability of a horizontal flip */
  flipP: number;
  colorJitter: ColorJitterConfig;
  /** probability of converting a view to grayscale */
  grayscaleP: number;
  /** probability of a Gaussian blur (SimCLR turns it off for CIFAR) */
  blurP: number;
  /** blur kernel size, pixels (odd) */
  blurKernel: number;
}

/** Supervised augmentation: random crop with padding, horizontal flip. */
export interface SupervisedAugmentConfig {
  /** zero padding before the random 32x32 crop, pixels (0 = no crop) */
  padding: number;
  /** probability of a horizontal flip */
  flipP: number;
}

export interface OptimizerConfig {
  kind: 'sgd' | 'adam' | 'lars';
  /** peak learning rate (after warm-up) */
  learningRate: number;
  /** SGD/LARS momentum; Adam beta1 */
  momentum: number;
  nesterov: boolean;
  /** L2 weight decay coefficient */
  weightDecay: number;
  /** do not decay batch-norm parameters and biases */
  decayExcludesNormAndBias: boolean;
  /** linear warm-up length, epochs (may be fractional) */
  warmupEpochs: number;
  /** after warm-up: cosine decay to `finalLrFraction` x peak, or constant */
  schedule: 'cosine' | 'constant';
  /** learning rate at the end of the cosine, as a fraction of the peak */
  finalLrFraction: number;
  /** LARS trust coefficient */
  larsEta: number;
}

/** Which images an epoch visits: every one, a subset fixed for the run, a fresh subset each epoch, or the next slice of plain passes. */
export interface EpochSamplingConfig {
  mode: 'all' | 'fixed-subset' | 'fresh-subset' | 'all-chunked';
  /** fraction of the pool used per epoch, in (0, 1]; ignored when mode = 'all' */
  fraction: number;
}

export interface EarlyStoppingConfig {
  /** stop after this many evaluations (epochs, or rounds of `roundImages`) without a validation improvement of at least `minDelta` (0 = never stop early) */
  patience: number;
  /** smallest improvement of the monitored validation metric that counts, absolute (accuracy in [0, 1]) */
  minDelta: number;
}

export interface KnnMonitorConfig {
  /** neighbours (SimCLR monitors: 200) */
  k: number;
  /** temperature of the similarity weights exp(s / t) */
  temperature: number;
  /** run the monitor every this many epochs (and always after the last) */
  everyEpochs: number;
  /** labelled training images in the monitor's memory bank, drawn class-balanced from the training pool (0 = the whole pool) */
  bankSize: number;
  /** validation images the monitor classifies (0 = the whole validation split) */
  querySize: number;
}

/** SimCLR pretraining (labels unused). */
export interface PretrainConfig {
  data: DataConfig;
  encoder: EncoderConfig;
  head: ProjectionHeadConfig;
  augment: SimclrAugmentConfig;
  sampling: EpochSamplingConfig;
  optimizer: OptimizerConfig;
  /** epochs over the sampled pool */
  epochs: number;
  /** images per batch (each gives two views, so 2x this many rows go through the encoder) */
  batchSize: number;
  /** NT-Xent temperature tau */
  temperature: number;
  knn: KnnMonitorConfig;
  /** also train a linear classifier on stop-gradient features as a progress signal (uses labels) */
  onlineProbe: boolean;
  seed: number;
}

/** Supervised training: from scratch, linear probe (frozen encoder) or fine-tuning. */
export interface SupervisedConfig {
  data: DataConfig;
  encoder: EncoderConfig;
  /** 'scratch', or the folder of a saved encoder */
  init: string;
  /** keep the encoder's weights fixed (linear probe) */
  freeze: boolean;
  /** 'random', or the `head.json` a linear probe wrote: start the classifier from the probe's weights (LP-FT, Kumar et al. 2022) */
  classifierInit: string;
  /** fraction of the training labels used, in (0, 1] (class-balanced, files in data/splits) */
  labelFraction: number;
  augment: SupervisedAugmentConfig;
  optimizer: OptimizerConfig;
  /** real epochs (passes over the labelled subset) at most, before the step floor; the cosine schedule spans them */
  epochs: number;
  /** step floor: a small labelled subset gets more passes so the run has at least this many optimizer steps (passes = max(epochs, ceil(minSteps / steps per pass))) */
  minSteps: number;
  /** images, at least, between two validation evaluations: a small labelled subset is evaluated every ceil(roundImages / subset size) passes, so patience means the same at every label budget (0 = after every pass) */
  roundImages: number;
  batchSize: number;
  earlyStopping: EarlyStoppingConfig;
  seed: number;
}
