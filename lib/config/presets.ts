import {
  basicCnn, defaultData, defaultHead, defaultPretrain, defaultSupervised, knnMonitor, noAugment, resnet18, sgdCosine,
} from './defaults';
import type { DataConfig, EncoderConfig, PretrainConfig, SupervisedConfig } from './types';
import { UsageError } from '../util/errors';

export type PresetName = 'smoke' | 'quick' | 'cpu' | 'gpu' | 'paper';
export const PRESET_NAMES: PresetName[] = ['smoke', 'quick', 'cpu', 'gpu', 'paper'];

/** The dynamic-sampling ablation: three pretraining arms in as many steps, each with every seed. */
export interface AblationConfig {
  /** fraction f of the pool per epoch, in (0, 1] */
  fraction: number;
  /** epochs E per arm: fresh subset (f, E), fixed subset (f, E) and all images for f x E plain epochs ('all-chunked') */
  epochs: number;
  /** pretraining seeds; every arm runs with each, so differences are paired by seed */
  seeds: number[];
  /** label percentage of the linear probe that scores each arm */
  labelPct: number;
}

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
  /** dynamic-sampling ablation (null = skip) */
  ablation: AblationConfig | null;
  /** linear probe on frozen features (`init` is filled in by the study) */
  probe: SupervisedConfig;
  /** fine-tuning of the pretrained encoder (its learning rate is chosen from `finetuneLrGrid`) */
  finetune: SupervisedConfig;
  /** the same architecture trained from scratch */
  scratch: SupervisedConfig;
  /** the basic CNN baseline trained from scratch */
  basicCnn: SupervisedConfig;
  /** label percentages of the probes and kNN */
  labelPcts: number[];
  /** label percentages of the runs that train a whole network (fine-tuning, LP-FT, scratch, basic CNN); a subset of `labelPcts` */
  trainLabelPcts: number[];
  /** seeds of the cheap runs (kNN and linear probes); must include every train seed (LP-FT starts from the probe of its seed) */
  probeSeeds: number[];
  /** seeds of the runs that train a whole network */
  trainSeeds: number[];
  /** train the basic CNN at every label percentage of `trainLabelPcts` (else only at 100%) */
  basicCnnAtAllPcts: boolean;
  /** peak learning rates tried for fine-tuning (and used by LP-FT), with the first train seed; the best validation accuracy picks */
  finetuneLrGrid: number[];
  /** label percentages where the grid is searched; a budget without a search uses the choice of the nearest searched one */
  finetuneLrSearchPcts: number[];
  /** also train the scratch ResNet at 100% labels on as many images as pretraining plus the probe's feature extraction (equal compute) */
  computeMatched: boolean;
  /** fractions of pretraining, in (0, 1), after which the encoder is saved and probed (the final encoder is the 100% point) */
  checkpointFractions: number[];
  /** label percentages of the checkpoint probes */
  checkpointLabelPcts: number[];
}

/** What differs between presets besides data, encoder and the protocols' configurations. */
type PresetRuns = Omit<StudyPreset, 'name' | 'description' | 'requires' | 'data' | 'pretrain' | 'probe' | 'finetune' | 'scratch' | 'basicCnn'> & { cnnWidth: number };

function studyPreset(
  name: PresetName,
  description: string,
  data: DataConfig,
  encoder: EncoderConfig,
  pretrain: Omit<PretrainConfig, 'data' | 'encoder'>,
  supervised: Omit<SupervisedConfig, 'data' | 'encoder' | 'init' | 'freeze' | 'labelFraction'>,
  probe: Pick<SupervisedConfig, 'epochs' | 'minSteps' | 'batchSize' | 'optimizer'>,
  runs: PresetRuns,
): StudyPreset {
  const base: SupervisedConfig = { ...supervised, data, encoder, init: 'scratch', freeze: false, labelFraction: 1 };
  const { cnnWidth, ...rest } = runs;
  return {
    name,
    description,
    data,
    pretrain: { ...pretrain, data, encoder },
    probe: { ...base, ...probe, freeze: true, roundImages: 0, augment: noAugment, earlyStopping: { patience: 0, minDelta: 0 } },
    // Fine-tuning starts from the scratch recipe; its learning rate is then chosen on the
    // validation split from `finetuneLrGrid` (the study records the grid and the choice).
    finetune: base,
    scratch: base,
    basicCnn: { ...base, encoder: { ...basicCnn, width: cnnWidth } },
    ...rest,
  };
}

const probeOptimizer = { ...sgdCosine, learningRate: 0.1, weightDecay: 0, nesterov: false, warmupEpochs: 0 };
const { data: _d, encoder: _e, ...pretrainDefaults } = defaultPretrain;
const { data: _sd, encoder: _se, init: _i, freeze: _f, labelFraction: _l, ...supervisedDefaults } = defaultSupervised;

/** Tiny data and network: the whole study in a few minutes; used by the tests. */
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
  { ...supervisedDefaults, epochs: 2, minSteps: 0, roundImages: 0, batchSize: 50, earlyStopping: { patience: 2, minDelta: 0 } },
  { epochs: 3, minSteps: 0, batchSize: 50, optimizer: probeOptimizer },
  {
    ablation: { fraction: 0.5, epochs: 2, seeds: [0, 1], labelPct: 100 }, labelPcts: [100, 10], trainLabelPcts: [100, 10],
    probeSeeds: [0, 1], trainSeeds: [0, 1], basicCnnAtAllPcts: false, cnnWidth: 4,
    finetuneLrGrid: [0.1, 0.03], finetuneLrSearchPcts: [10], computeMatched: true,
    checkpointFractions: [0.5], checkpointLabelPcts: [100, 10],
  },
);

/**
 * Real CIFAR-10 cut to 1,000 training images per class (10,000), 100 validation and 300 test
 * images per class, the width-16 ResNet: every method with three seeds in about 18 minutes on two
 * cores (estimated from the per-image rates of the earlier quick and cpu studies). Networks get few
 * steps here; the `cpu` preset is the one trained to convergence.
 */
const quick = studyPreset(
  'quick',
  'CIFAR-10 cut to 1,000 training images per class, width-16 ResNet (3 stages of 1 block), 4 SimCLR epochs, every network run with 3 seeds and few steps: about 18 minutes on 2 CPU cores (estimated)',
  { ...defaultData, validationPerClass: 100, trainPerClassLimit: 1000, testPerClassLimit: 300 },
  { kind: 'resnet', width: 16, blocksPerStage: [1, 1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 256, outputDim: 64 }, epochs: 4, batchSize: 128,
    sampling: { mode: 'all', fraction: 1 },
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, weightDecay: 5e-4, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, everyEpochs: 2, bankSize: 5000, querySize: 0 },
  },
  { ...supervisedDefaults, epochs: 2, minSteps: 60, roundImages: 2000, batchSize: 128, earlyStopping: { patience: 3, minDelta: 0.001 } },
  { epochs: 30, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  {
    ablation: { fraction: 0.1, epochs: 5, seeds: [0, 1, 2], labelPct: 10 }, labelPcts: [100, 50, 10, 1], trainLabelPcts: [100, 10, 1],
    probeSeeds: [0, 1, 2], trainSeeds: [0, 1, 2], basicCnnAtAllPcts: true, cnnWidth: 16,
    finetuneLrGrid: [0.1, 0.03, 0.01], finetuneLrSearchPcts: [100, 10, 1], computeMatched: true,
    checkpointFractions: [0.25, 0.5, 0.75], checkpointLabelPcts: [100, 1],
  },
);

/**
 * The converged study on a CPU, about 100 minutes on two cores (estimated; it resumes
 * across sessions from its checkpoints): the `quick` network pretrained on all 45,000 training
 * images for 6 epochs, supervised runs of up to 15 real epochs with a 1,500-step floor and early
 * stopping on a validation plateau. To fit, network runs skip the 50 % budget, the fine-tuning
 * learning rate is searched at 10 % labels only, and network runs and the ablation use fewer
 * seeds than `quick`.
 */
const cpu = studyPreset(
  'cpu',
  'real CIFAR-10, the quick network (width-16 ResNet, 3 stages of 1 block) pretrained for 6 full epochs (2,106 SimCLR steps), supervised runs of up to 15 real epochs (1,500-step floor) stopped on a validation plateau: about 100 minutes on 2 CPU cores (estimated)',
  { ...defaultData },
  { kind: 'resnet', width: 16, blocksPerStage: [1, 1, 1] },
  {
    ...pretrainDefaults, head: { hiddenDim: 256, outputDim: 64 }, epochs: 6, batchSize: 128,
    sampling: { mode: 'all', fraction: 1 },
    optimizer: { ...pretrainDefaults.optimizer, learningRate: 0.3, weightDecay: 5e-4, warmupEpochs: 0.5 },
    knn: { ...knnMonitor, everyEpochs: 2, bankSize: 10000, querySize: 5000 },
  },
  { ...supervisedDefaults, epochs: 15, minSteps: 1500, roundImages: 20000, batchSize: 128, earlyStopping: { patience: 4, minDelta: 0.001 } },
  { epochs: 50, minSteps: 0, batchSize: 256, optimizer: probeOptimizer },
  {
    ablation: { fraction: 0.1, epochs: 5, seeds: [0, 1], labelPct: 10 }, labelPcts: [100, 50, 10, 1], trainLabelPcts: [100, 10, 1],
    probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: true, cnnWidth: 16,
    finetuneLrGrid: [0.1, 0.03, 0.01], finetuneLrSearchPcts: [10], computeMatched: true,
    checkpointFractions: [0.25, 0.5, 0.75], checkpointLabelPcts: [100, 1],
  },
);

/**
 * ResNet-18 in about an hour of pretraining on a recent consumer GPU through the webgpu backend.
 * The length is an ESTIMATE, not a measurement: no GPU was available when it was chosen. It
 * assumes 500 images/s for the SimCLR step of ResNet-18 at batch 512 (a fifth to a sixth of what
 * PyTorch is commonly reported to reach on such a card, as tfjs's generic WGSL kernels are
 * slower than cuDNN): 3,600 s x 500 images/s = 1.8 M images = 40 epochs of the 45,000-image
 * pool. Replace it with the images/s of `cifar-ssl bench --presets paper --backends webgpu` on a
 * real GPU (docs/gpu.md). The supervised runs (up to 15 real epochs, stopped on a validation
 * plateau), the one-seed ablation and the checkpoint probes come on top; the compute-matched
 * scratch run is left out, as it alone would repeat the pretraining's hour.
 */
const gpu = studyPreset(
  'gpu',
  'ResNet-18 (width 64), batch 512, 40 pretraining epochs: about an hour of pretraining on a recent consumer GPU with --backend webgpu (an estimate until measured, docs/gpu.md)',
  { ...defaultData },
  resnet18,
  { ...pretrainDefaults, head: defaultHead, epochs: 40, batchSize: 512, knn: { ...knnMonitor, everyEpochs: 5, bankSize: 10000, querySize: 5000 } },
  { ...supervisedDefaults, epochs: 15, minSteps: 1500, roundImages: 45000, batchSize: 256, earlyStopping: { patience: 4, minDelta: 0.001 } },
  { epochs: 50, minSteps: 0, batchSize: 512, optimizer: probeOptimizer },
  {
    ablation: { fraction: 0.2, epochs: 10, seeds: [0], labelPct: 100 }, labelPcts: [100, 10, 1], trainLabelPcts: [100, 10, 1],
    probeSeeds: [0, 1, 2], trainSeeds: [0], basicCnnAtAllPcts: false, cnnWidth: 64,
    finetuneLrGrid: [0.1, 0.03, 0.01], finetuneLrSearchPcts: [10], computeMatched: false,
    checkpointFractions: [0.25, 0.5, 0.75], checkpointLabelPcts: [100, 1],
  },
);

/** The published recipe: ResNet-18 width 64, batch 512, 500 epochs; days even on a GPU (webgpu, or tfjs-node-gpu where it loads). */
const paper = studyPreset(
  'paper',
  'ResNet-18 (width 64), batch 512, 500 pretraining epochs: the published SimCLR CIFAR-10 recipe, for a GPU (--backend webgpu, or tfjs-node-gpu where it loads); days of training',
  { ...defaultData },
  { kind: 'resnet', width: 64, blocksPerStage: [2, 2, 2, 2] },
  { ...pretrainDefaults, head: defaultHead, epochs: 500, batchSize: 512, knn: { ...knnMonitor, everyEpochs: 10 } },
  { ...supervisedDefaults, epochs: 200, minSteps: 20000, roundImages: 45000, batchSize: 128, earlyStopping: { patience: 30, minDelta: 0.001 } },
  { epochs: 100, minSteps: 0, batchSize: 512, optimizer: probeOptimizer },
  {
    ablation: { fraction: 0.5, epochs: 200, seeds: [0, 1, 2], labelPct: 100 }, labelPcts: [100, 50, 10, 1], trainLabelPcts: [100, 50, 10, 1],
    probeSeeds: [0, 1, 2], trainSeeds: [0, 1, 2], basicCnnAtAllPcts: true, cnnWidth: 64,
    finetuneLrGrid: [0.1, 0.03, 0.01], finetuneLrSearchPcts: [100, 50, 10, 1], computeMatched: true,
    checkpointFractions: [0.25, 0.5, 0.75], checkpointLabelPcts: [100, 1],
  },
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

/**
 * Checks the study-level fields of a preset (the protocols' configurations are checked where they
 * are used); throws a UsageError naming the field and the fix, before anything is written.
 */
export function validatePreset(preset: StudyPreset): void {
  const fail = (message: string): never => {
    throw new UsageError(`preset ${preset.name}: ${message}`);
  };
  const isPct = (p: number): boolean => Number.isFinite(p) && p > 0 && p <= 100;
  const seeds = (list: number[], field: string): void => {
    if (list.length === 0 || list.some((s) => !Number.isInteger(s))) fail(`${field} must be a non-empty list of integer seeds, got [${list}]`);
  };
  if (preset.labelPcts.length === 0 || !preset.labelPcts.every(isPct)) fail(`labelPcts must be percentages in (0, 100], got [${preset.labelPcts}]`);
  if (!preset.trainLabelPcts.every((p) => preset.labelPcts.includes(p))) fail(`trainLabelPcts [${preset.trainLabelPcts}] must be a subset of labelPcts [${preset.labelPcts}]`);
  seeds(preset.probeSeeds, 'probeSeeds');
  seeds(preset.trainSeeds, 'trainSeeds');
  if (!preset.trainSeeds.every((s) => preset.probeSeeds.includes(s))) fail(`every train seed needs a probe of the same seed for LP-FT: add [${preset.trainSeeds}] to probeSeeds`);
  if (preset.finetuneLrGrid.length === 0 || preset.finetuneLrGrid.some((lr) => !(Number.isFinite(lr) && lr > 0))) fail(`finetuneLrGrid must be a non-empty list of positive learning rates, got [${preset.finetuneLrGrid}]`);
  if (preset.trainLabelPcts.length > 0 && (preset.finetuneLrSearchPcts.length === 0 || !preset.finetuneLrSearchPcts.every((p) => preset.trainLabelPcts.includes(p)))) {
    fail(`finetuneLrSearchPcts [${preset.finetuneLrSearchPcts}] must be a non-empty subset of trainLabelPcts [${preset.trainLabelPcts}]`);
  }
  if (preset.checkpointFractions.some((f) => !(f > 0 && f < 1))) fail(`checkpointFractions must lie in (0, 1), got [${preset.checkpointFractions}]`);
  if (!preset.checkpointLabelPcts.every(isPct)) fail(`checkpointLabelPcts must be percentages in (0, 100], got [${preset.checkpointLabelPcts}]`);
  const supervised = [preset.probe, preset.finetune, preset.scratch, preset.basicCnn];
  for (const config of supervised) {
    if (!Number.isInteger(config.minSteps) || config.minSteps < 0) fail(`minSteps must be a non-negative integer, got ${config.minSteps}`);
    if (!Number.isInteger(config.roundImages) || config.roundImages < 0) fail(`roundImages must be a non-negative integer, got ${config.roundImages}`);
  }
  const { ablation } = preset;
  if (ablation) {
    if (!(ablation.fraction > 0 && ablation.fraction <= 1)) fail(`ablation.fraction must be in (0, 1], got ${ablation.fraction}`);
    if (!Number.isInteger(ablation.epochs) || ablation.epochs < 1) fail(`ablation.epochs must be a positive integer, got ${ablation.epochs}`);
    seeds(ablation.seeds, 'ablation.seeds');
    if (!isPct(ablation.labelPct)) fail(`ablation.labelPct must be a percentage in (0, 100], got ${ablation.labelPct}`);
  }
}
