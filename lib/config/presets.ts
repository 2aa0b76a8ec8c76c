import {
  basicCnn, defaultData, defaultHead, defaultPretrain, defaultSupervised, knnMonitor, noAugment, sgdCosine,
} from './defaults';
import type { DataConfig, EncoderConfig, PretrainConfig, SupervisedConfig } from './types';
import { UsageError } from '../util/errors';

export type PresetName = 'smoke' | 'quick' | 'cpu' | 'paper';
export const PRESET_NAMES: PresetName[] = ['smoke', 'quick', 'cpu', 'paper'];

/** The whole study at one scale: every protocol's configuration and which runs to make. */
export interface StudyPreset {
  name: PresetName;
  /** what the preset is for */
  description: string;
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
    finetune: { ...base, optimizer: { ...base.optimizer, learningRate: base.optimizer.learningRate / 10 } },
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

/** Real CIFAR-10, a small network: the whole study in about 20 minutes on a 2-core CPU. */
const quick = studyPreset(
  'quick',
  'real CIFAR-10, width-16 ResNet (3 stages of 1 block), a few hundred SimCLR steps on fresh 20 % subsets: the whole study in about 20-30 minutes on 2 CPU cores',
  { ...defaultData },
  { kind: 'resnet', width: 16, blocksPerStage: [1, 1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 256, outputDim: 64 }, epochs: 6, batchSize: 128,
    sampling: { mode: 'fresh-subset', fraction: 0.2 },
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, weightDecay: 5e-4, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, bankSize: 5000, querySize: 2000 },
  },
  { ...supervisedDefaults, epochs: 3, maxImagesPerEpoch: 2560, minSteps: 40, batchSize: 128, earlyStopping: { patience: 0, minDelta: 0 } },
  { epochs: 10, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  { ablation: { fraction: 0.05, epochs: 2 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: true, cnnWidth: 16 },
);

/** A serious CPU run: about two hours on two cores. */
const cpu = studyPreset(
  'cpu',
  'real CIFAR-10, width-32 ResNet (3 stages of 2 blocks): sized for about two hours on 2 CPU cores (not yet timed)',
  { ...defaultData },
  { kind: 'resnet', width: 32, blocksPerStage: [2, 2, 2] },
  {
    ...pretrainDefaults, head: { hiddenDim: 512, outputDim: 128 }, epochs: 20, batchSize: 256,
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.6, warmupEpochs: 2 },
    knn: { ...knnMonitor, bankSize: 10000, querySize: 5000, everyEpochs: 2 },
  },
  { ...supervisedDefaults, epochs: 15, maxImagesPerEpoch: 10000, minSteps: 500, batchSize: 128, earlyStopping: { patience: 5, minDelta: 0.002 } },
  { epochs: 50, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  { ablation: { fraction: 0.25, epochs: 8 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0, 1, 2], basicCnnAtAllPcts: true, cnnWidth: 32 },
);

/** The published recipe: ResNet-18 width 64, batch 512, 500 epochs; meant for a GPU through tfjs-node-gpu. */
const paper = studyPreset(
  'paper',
  'ResNet-18 (width 64), batch 512, 500 pretraining epochs: the published SimCLR CIFAR-10 recipe, for a GPU (tfjs-node-gpu)',
  { ...defaultData },
  { kind: 'resnet', width: 64, blocksPerStage: [2, 2, 2, 2] },
  { ...pretrainDefaults, head: defaultHead, epochs: 500, batchSize: 512, knn: { ...knnMonitor, everyEpochs: 10 } },
  { ...supervisedDefaults, epochs: 200, minSteps: 20000, batchSize: 128, earlyStopping: { patience: 30, minDelta: 0.001 } },
  { epochs: 100, minSteps: 0, batchSize: 512, optimizer: probeOptimizer },
  { ablation: { fraction: 0.5, epochs: 200 }, labelPcts: [100, 50, 10, 1], probeSeeds: [0, 1, 2], trainSeeds: [0, 1, 2], basicCnnAtAllPcts: true, cnnWidth: 64 },
);

export const PRESETS: Record<PresetName, StudyPreset> = { smoke, quick, cpu, paper };

export function getPreset(name: string): StudyPreset {
  if (!(PRESET_NAMES as string[]).includes(name)) {
    throw new UsageError(`unknown preset "${name}"; choose one of ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name as PresetName];
}
