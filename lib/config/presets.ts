import {
  basicCnn, defaultData, defaultHead, defaultPretrain, defaultSupervised, knnMonitor, noAugment, resnet18, sgdCosine,
} from './defaults';
import type { DataConfig, EncoderConfig, PretrainConfig, SupervisedConfig } from './types';
import { UsageError } from '../util/errors';

export type PresetName = 'smoke' | 'quick' | 'cpu' | 'gpu' | 'paper';
export const PRESET_NAMES: PresetName[] = ['smoke', 'quick', 'cpu', 'gpu', 'paper'];

/** The whole study at one scale: every protocol's configuration and which runs to make. */
export interface StudyPreset {
  name: PresetName;
  /** what the preset is for */
  description: string;
  /** what the preset needs beyond a CPU, when it cannot run on any machine (shown where its wall time would be) */
  requires?: string;
  data: DataConfig;
  /** the SimCLR pretraining run every SSL evaluation starts from */
  pretrain: PretrainConfig;
  /** dynamic-sampling ablation: two pretraining runs on `fraction` of the pool per epoch, fixed vs fresh subset, same epochs and so the same number of steps (null = skip) */
  ablation: { fraction: number; epochs: number } | null;
  /** linear probe on frozen features (`init` is filled in by the study) */
  probe: SupervisedConfig;
  /** fine-tuning of the pretrained encoder */
  finetune: SupervisedConfig;
  /** the same architecture trained from scratch */
  scratch: SupervisedConfig;
  /** the basic CNN baseline trained from scratch */
  basicCnn: SupervisedConfig;
  /** label percentages of the comparison */
  labelPcts: number[];
  /** seeds of the cheap runs (kNN and linear probes) */
  probeSeeds: number[];
  /** seeds of the runs that train a whole network (fine-tuning, from scratch) */
  trainSeeds: number[];
  /** train the basic CNN at every label percentage (else only at 100%) */
  basicCnnAtAllPcts: boolean;
}

function studyPreset(
  name: PresetName,
  description: string,
  data: DataConfig,
  encoder: EncoderConfig,
  pretrain: Omit<PretrainConfig, 'data' | 'encoder'>,
  supervised: Omit<SupervisedConfig, 'data' | 'encoder' | 'init' | 'freeze' | 'labelFraction'>,
  probe: Pick<SupervisedConfig, 'epochs' | 'minSteps' | 'batchSize' | 'optimizer'>,
  rest: Pick<StudyPreset, 'ablation' | 'labelPcts' | 'probeSeeds' | 'trainSeeds' | 'basicCnnAtAllPcts'> & { cnnWidth: number },
): StudyPreset {
  const base: SupervisedConfig = { ...supervised, data, encoder, init: 'scratch', freeze: false, labelFraction: 1 };
  return {
    name,
    description,
    data,
    pretrain: { ...pretrain, data, encoder },
    ablation: rest.ablation,
    probe: { ...base, ...probe, freeze: true, augment: noAugment, earlyStopping: { patience: 0, minDelta: 0 } },
    // Fine-tuning uses the scratch recipe unchanged, so the two differ only in their initial weights.
    // (A tenth of the scratch LR, tried first, left the fresh classifier nearly untrained within the
    // CPU presets' few hundred steps and scored below training from scratch.)
    finetune: base,
    scratch: base,
    basicCnn: { ...base, encoder: { ...basicCnn, width: rest.cnnWidth } },
    labelPcts: rest.labelPcts,
    probeSeeds: rest.probeSeeds,
    trainSeeds: rest.trainSeeds,
    basicCnnAtAllPcts: rest.basicCnnAtAllPcts,
  };
}

const probeOptimizer = { ...sgdCosine, learningRate: 0.1, weightDecay: 0, nesterov: false, warmupEpochs: 0 };
const { data: _d, encoder: _e, ...pretrainDefaults } = defaultPretrain;
const { data: _sd, encoder: _se, init: _i, freeze: _f, labelFraction: _l, ...supervisedDefaults } = defaultSupervised;

/** Tiny data and network: the whole study in well under two minutes; used by the tests. */
const smoke = studyPreset(
  'smoke',
  'tiny subset and network; checks that every step of the study runs (numbers mean nothing)',
  { ...defaultData, validationPerClass: 10, trainPerClassLimit: 30, testPerClassLimit: 10 },
  { kind: 'resnet', width: 4, blocksPerStage: [1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 32, outputDim: 16 }, epochs: 2, batchSize: 50,
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, k: 20, bankSize: 0, querySize: 0 },
  },
  { ...supervisedDefaults, epochs: 2, batchSize: 50, earlyStopping: { patience: 0, minDelta: 0 } },
  { epochs: 3, minSteps: 0, batchSize: 50, optimizer: probeOptimizer },
  { ablation: { fraction: 0.5, epochs: 2 }, labelPcts: [100, 10], probeSeeds: [0], trainSeeds: [0], basicCnnAtAllPcts: false, cnnWidth: 4 },
);

/** Real CIFAR-10, a small network: the whole study in about 15 minutes on a 2-core CPU. */
const quick = studyPreset(
  'quick',
  'real CIFAR-10, width-16 ResNet (3 stages of 1 block), 630 SimCLR steps on fresh 20 % subsets, 80 steps per supervised run: the whole study in about 15 minutes on 2 CPU cores',
  { ...defaultData },
  { kind: 'resnet', width: 16, blocksPerStage: [1, 1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 256, outputDim: 64 }, epochs: 9, batchSize: 128,
    sampling: { mode: 'fresh-subset', fraction: 0.2 },
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, weightDecay: 5e-4, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, bankSize: 5000, querySize: 2000 },
  },
  { ...supervisedDefaults, epochs: 4, imagesPerEpoch: 2560, minSteps: 80, batchSize: 128, earlyStopping: { patience: 0, minDelta: 0 } },
  { epochs: 30, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  { ablation: { fraction: 0.05, epochs: 3 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: true, cnnWidth: 16 },
);

/**
 * A serious CPU run, about an hour on two cores: the `quick` network pretrained on every
 * training image for 18 epochs (ten times the SimCLR steps of `quick`), a longer ablation and
 * about three times the steps per supervised run. The network is the `quick` one, so the two
 * presets differ in training length only and show what longer training buys.
 */
const cpu = studyPreset(
  'cpu',
  'real CIFAR-10, the quick network (width-16 ResNet, 3 stages of 1 block) pretrained for 18 full epochs (6,318 SimCLR steps), 250 steps per supervised run: about an hour on 2 CPU cores',
  { ...defaultData },
  { kind: 'resnet', width: 16, blocksPerStage: [1, 1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 256, outputDim: 64 }, epochs: 18, batchSize: 128,
    sampling: { mode: 'all', fraction: 1 },
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, weightDecay: 5e-4, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, bankSize: 10000, querySize: 5000 },
  },
  { ...supervisedDefaults, epochs: 5, imagesPerEpoch: 6400, minSteps: 250, batchSize: 128, earlyStopping: { patience: 0, minDelta: 0 } },
  { epochs: 50, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  { ablation: { fraction: 0.1, epochs: 8 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: true, cnnWidth: 16 },
);

/**
 * ResNet-18 in about an hour of pretraining on a recent consumer GPU through the webgpu backend.
 * The length is an ESTIMATE, not a measurement: no GPU was available when it was chosen. It
 * assumes 500 images/s for the SimCLR step of ResNet-18 at batch 512 (a fifth to a sixth of what
 * PyTorch is commonly reported to reach on such a card, as tfjs's generic WGSL kernels are
 * slower than cuDNN): 3,600 s x 500 images/s = 1.8 M images = 40 epochs of the 45,000-image
 * pool. Replace it with the images/s of `cifar-ssl bench --presets paper --backends webgpu` on a
 * real GPU (docs/gpu.md). The supervised runs and the ablation are cut to match, about 20-30
 * minutes more under the same assumption (1,500 images/s for a one-view step).
 */
const gpu = studyPreset(
  'gpu',
  'ResNet-18 (width 64), batch 512, 40 pretraining epochs: about an hour of pretraining on a recent consumer GPU with --backend webgpu (an estimate until measured, docs/gpu.md)',
  { ...defaultData },
  resnet18,
  { ...pretrainDefaults, head: defaultHead, epochs: 40, batchSize: 512, knn: { ...knnMonitor, everyEpochs: 5, bankSize: 10000, querySize: 5000 } },
  { ...supervisedDefaults, epochs: 10, imagesPerEpoch: 20000, minSteps: 300, batchSize: 256, earlyStopping: { patience: 0, minDelta: 0 } },
  { epochs: 50, minSteps: 0, batchSize: 512, optimizer: probeOptimizer },
  { ablation: { fraction: 0.2, epochs: 10 }, labelPcts: [100, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: false, cnnWidth: 64 },
);

/** The published recipe: ResNet-18 width 64, batch 512, 500 epochs; days even on a GPU (webgpu, or tfjs-node-gpu where it loads). */
const paper = studyPreset(
  'paper',
  'ResNet-18 (width 64), batch 512, 500 pretraining epochs: the published SimCLR CIFAR-10 recipe, for a GPU (--backend webgpu, or tfjs-node-gpu where it loads); days of training',
  { ...defaultData },
  { kind: 'resnet', width: 64, blocksPerStage: [2, 2, 2, 2] },
  { ...pretrainDefaults, head: defaultHead, epochs: 500, batchSize: 512, knn: { ...knnMonitor, everyEpochs: 10 } },
  { ...supervisedDefaults, epochs: 200, minSteps: 20000, batchSize: 128, earlyStopping: { patience: 30, minDelta: 0.001 } },
  { epochs: 100, minSteps: 0, batchSize: 512, optimizer: probeOptimizer },
  { ablation: { fraction: 0.5, epochs: 200 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0, 1, 2], basicCnnAtAllPcts: true, cnnWidth: 64 },
);

export const PRESETS: Record<PresetName, StudyPreset> = {
  smoke, quick, cpu,
  gpu: { ...gpu, requires: 'a GPU through the webgpu backend; no GPU was available on the machines this project was measured on' },
  paper: { ...paper, requires: 'a GPU through the webgpu backend (or tfjs-node-gpu); no GPU was available on the machines this project was measured on' },
};

export function getPreset(name: string): StudyPreset {
  if (!(PRESET_NAMES as string[]).includes(name)) {
    throw new UsageError(`unknown preset "${name}"; choose one of ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name as PresetName];
}
