import type {
  DataConfig, EncoderConfig, EarlyStoppingConfig, KnnMonitorConfig, OptimizerConfig, PretrainConfig,
  ProjectionHeadConfig, SimclrAugmentConfig, SupervisedAugmentConfig, SupervisedConfig,
} from './types';

export const defaultData: DataConfig = {
  root: 'data',
  validationPerClass: 500,
  splitSeed: 0,
};

/** ResNet-18 with the CIFAR stem. */
export const resnet18: EncoderConfig = { kind: 'resnet', width: 64, blocksPerStage: [2, 2, 2, 2] };

export const basicCnn: EncoderConfig = { kind: 'basic-cnn', width: 32, blocksPerStage: [] };

export const defaultHead: ProjectionHeadConfig = { hiddenDim: 2048, outputDim: 128 };

/** SimCLR's CIFAR-10 recipe: crop scale 0.08-1, flip, colour jitter s = 0.5 (p 0.8), grayscale p 0.2, no blur. */
export const simclrAugment: SimclrAugmentConfig = {
  cropSize: 32,
  cropScale: [0.08, 1],
  cropRatio: [3 / 4, 4 / 3],
  flipP: 0.5,
  colorJitter: { p: 0.8, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
  grayscaleP: 0.2,
  blurP: 0,
  blurKernel: 3,
};

export const supervisedAugment: SupervisedAugmentConfig = { padding: 4, flipP: 0.5 };

export const noAugment: SupervisedAugmentConfig = { padding: 0, flipP: 0 };

export const sgdCosine: OptimizerConfig = {
  kind: 'sgd',
  learningRate: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  decayExcludesNormAndBias: true,
  warmupEpochs: 1,
  schedule: 'cosine',
  finalLrFraction: 0,
  larsEta: 0.001,
};

export const knnMonitor: KnnMonitorConfig = { k: 200, temperature: 0.1, everyEpochs: 1, bankSize: 0, querySize: 0 };

export const noEarlyStopping: EarlyStoppingConfig = { patience: 0, minDelta: 0 };

export const defaultPretrain: PretrainConfig = {
  data: defaultData,
  encoder: resnet18,
  head: defaultHead,
  augment: simclrAugment,
  sampling: { mode: 'all', fraction: 1 },
  optimizer: { ...sgdCosine, learningRate: 0.6, weightDecay: 1e-6, warmupEpochs: 10 },
  epochs: 500,
  batchSize: 512,
  temperature: 0.5,
  knn: knnMonitor,
  onlineProbe: true,
  seed: 0,
};

export const defaultSupervised: SupervisedConfig = {
  data: defaultData,
  encoder: resnet18,
  init: 'scratch',
  freeze: false,
  classifierInit: 'random',
  labelFraction: 1,
  augment: supervisedAugment,
  optimizer: sgdCosine,
  epochs: 100,
  minSteps: 0,
  roundImages: 0,
  batchSize: 128,
  earlyStopping: { patience: 20, minDelta: 0.001 },
  seed: 0,
};
