import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { supervisedAugment } from '../augment/supervised';
import { configHash } from '../config/hash';
import type { SupervisedConfig } from '../config/types';
import { EpochSampler, gatherBatch } from '../data/index';
import { reachedPlateau } from '../eval/convergence';
import { computeFeatureCache, gatherFeatures, type FeatureCache } from '../eval/feature-cache';
import { accuracyOf } from '../eval/knn-monitor';
import { classificationReport, type ClassificationReport } from '../eval/metrics';
import { predictFeatures, predictImages } from '../eval/predict';
import { softmaxCrossEntropy } from '../losses/cross-entropy';
import { makeLinearClassifier } from '../models/heads';
import { makeEncoder } from '../models/make-encoder';
import type { Encoder, Module } from '../models/types';
import { loadModuleWeights, readWeightsManifest, type WeightsManifest } from '../models/weights-io';
import { writeJsonAtomic } from '../util/atomic-write';
import { UsageError } from '../util/errors';
import { Rng, mixSeed } from '../util/random';
import type { DataContext } from './data-context';
import { LoopResult, RunOptions, TrainingTask, runTrainingLoop } from './loop';
import { prefixed } from './modules';
import { foldStandardisation, loadProbeHead, writeProbeHead } from './probe-head';
import { NUM_CLASSES } from './pretrain';

const EVAL_BATCH = 256;

export interface SupervisedResult {
  loop: LoopResult;
  /** metrics on the test set, measured once with the weights of the selected epoch */
  test: ClassificationReport;
  /** per test image (in `splits.test` order): 1 when predicted right; for paired bootstrap intervals */
  testCorrect: Uint8Array;
  /** best validation accuracy */
  valAccuracy: number;
  /** labelled training images used */
  labelledCount: number;
  /** passes over the labelled subset between two evaluations (one epoch of the training loop) */
  passesPerRound: number;
  /** passes over the labelled subset done (early stopping can end the run before its budget) */
  realEpochs: number;
  /** passes done when the kept (best-validation) weights were reached */
  epochsToBest: number | null;
  /** the run ended on a validation plateau (`reachedPlateau`); null with fewer than two evaluations */
  plateau: boolean | null;
}

/** Checks the fields a supervised run reads before it starts; a UsageError (exit code 2) names the field and the fix. */
export function validateSupervisedConfig(config: SupervisedConfig): void {
  if (!(config.labelFraction > 0 && config.labelFraction <= 1)) {
    throw new UsageError(`label fraction must be in (0, 1], got ${config.labelFraction}`);
  }
  if (!Number.isInteger(config.minSteps) || config.minSteps < 0) throw new UsageError(`minSteps must be a non-negative integer, got ${config.minSteps}`);
  if (!Number.isInteger(config.roundImages) || config.roundImages < 0) throw new UsageError(`roundImages must be a non-negative integer, got ${config.roundImages}`);
  if (config.classifierInit !== 'random' && !fs.existsSync(config.classifierInit)) {
    throw new UsageError(`classifierInit ${config.classifierInit} does not exist: give 'random' or the head.json a linear probe wrote in its run folder`);
  }
}

/** Builds the encoder of a run: random, or loaded from a saved encoder folder (checked against the configuration). */
export function initialEncoder(config: SupervisedConfig, rng: Rng): Encoder {
  if (config.init !== 'scratch') assertSavedEncoder(config.init);
  const encoder = makeEncoder(config.encoder, rng);
  if (config.init !== 'scratch') loadModuleWeights(encoder, config.init);
  return encoder;
}

/**
 * The manifest of the saved encoder in `dir`; a UsageError names the problem when the folder is
 * missing or holds no readable manifest. Commands call it before they load any data.
 */
export function assertSavedEncoder(dir: string): WeightsManifest {
  if (!fs.existsSync(dir)) {
    throw new UsageError(`encoder folder ${dir} does not exist; pass --init scratch or the encoder/ folder of a pretraining run`);
  }
  try {
    return readWeightsManifest(dir);
  } catch (error) {
    // an argument that names no saved encoder is a usage error (exit 2), like a missing folder
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; pass the encoder/ folder of a pretraining run`);
  }
}

/**
 * The identity of a supervised run, for its checkpoints and its record: the configuration and,
 * when it starts from a saved encoder, the configuration hash that encoder was trained with (from
 * its manifest, or `encoderHash` when the caller knows it). The folder path alone would let a
 * retrained encoder reuse the probes and checkpoints of the old one.
 */
export function supervisedRunHash(config: SupervisedConfig, encoderHash?: string): string {
  if (config.init === 'scratch') return configHash(config);
  return configHash({ run: config, encoder: encoderHash ?? savedEncoderHash(config.init) });
}

/** The pretraining configuration hash a saved encoder records, or its tensor layout when it records none. */
function savedEncoderHash(dir: string): string {
  const manifest = assertSavedEncoder(dir);
  const saved = manifest.extra?.configHash;
  return typeof saved === 'string' ? saved : configHash(manifest.tensors);
}

export interface SupervisedRunOptions extends Omit<RunOptions, 'configHash'> {
  /** features of the frozen encoder, when the caller already extracted them (linear probes only; the encoder is then not loaded) */
  featureCache?: FeatureCache;
  /** configuration hash of the saved encoder `config.init`, when the caller knows it (see `supervisedRunHash`) */
  encoderHash?: string;
  /** use this encoder instead of building one from `config.init` (the caller keeps and disposes it) */
  encoder?: Encoder;
}

/**
 * Supervised training on a class-balanced `labelFraction` of the training labels, in one of three
 * forms: from scratch (`init: 'scratch'`), fine-tuning a saved encoder, or a linear probe
 * (`freeze: true`), where features are extracted once without augmentation and only a linear
 * classifier is trained on them, so the encoder cannot change. The epoch with the best validation
 * accuracy is kept; the test set is touched once, at the end.
 */
export async function trainSupervised(config: SupervisedConfig, data: DataContext, options: SupervisedRunOptions): Promise<SupervisedResult> {
  validateSupervisedConfig(config);
  const hash = supervisedRunHash(config, options.encoderHash);
  // A probe given its features needs no encoder; the classifier has its own random stream, so it
  // starts the same whether or not an encoder was built first.
  const cached = config.freeze && options.featureCache !== undefined;
  const encoder = options.encoder ?? (cached ? null : initialEncoder(config, new Rng(mixSeed(config.seed, 0x5eed))));
  const featureDim = encoder?.featureDim ?? options.featureCache!.dim;
  const classifier = makeLinearClassifier(featureDim, NUM_CLASSES, new Rng(mixSeed(config.seed, 0xc1a551f)));
  if (config.classifierInit !== 'random') loadProbeHead(config.classifierInit, classifier);
  const { train } = data.dataset;
  const labelled = data.splits.labelled(config.labelFraction, config.seed);
  const validation = data.splits.validation;

  let task: TrainingTask;
  let predictTest: () => Int32Array;
  if (config.freeze) {
    const cache = options.featureCache ?? computeFeatureCache(encoder!, data, Int32Array.from(new Set([...labelled, ...validation])).sort());
    const dim = cache.dim;
    // Features are standardised with the labelled rows' mean and std (a fixed affine map, as the
    // batch-norm-without-affine layer of common SimCLR probes), so one learning rate suits every encoder.
    const trainFeatures = gatherFeatures(cache.train, dim, labelled); // [n, dim]
    const standardize = standardizer(trainFeatures, dim);
    standardize(trainFeatures);
    const trainLabels = Int32Array.from(labelled, (r) => train.labels[r]);
    const valFeatures = standardize(gatherFeatures(cache.train, dim, validation));
    const valLabels = Int32Array.from(validation, (r) => train.labels[r]);
    task = {
      trainable: prefixed({ classifier }, 'trainable'),
      saved: prefixed({ classifier }, 'both'),
      // rows here are positions in the labelled features, one pass per epoch
      epochRows: supervisedEpochRows(Int32Array.from(labelled.keys()), 1, config.seed),
      batchLoss: (rows) => {
        const x = tf.tensor2d(gatherFeatures(trainFeatures, dim, rows), [rows.length, dim]);
        const y = tf.tensor1d(Int32Array.from(rows, (r) => trainLabels[r]), 'int32');
        return softmaxCrossEntropy(classifier.apply(x, true) as tf.Tensor2D, y);
      },
      evaluate: () => {
        const accuracy = accuracyOf(predictFeatures(classifier, valFeatures, dim, EVAL_BATCH), valLabels);
        return { metrics: { valAccuracy: accuracy }, selection: accuracy };
      },
    };
    predictTest = () => {
      // the classifier holds the best-validation weights here: save them for LP-FT
      writeProbeHead(path.join(options.runDir, 'head.json'), foldStandardisation(classifier, standardize.mean, standardize.scale));
      return predictFeatures(classifier, standardize(gatherFeatures(cache.test, dim, data.splits.test)), dim, EVAL_BATCH);
    };
  } else {
    task = makeImageClassifierTask(config, data, encoder!, classifier, labelled);
    predictTest = () => predictImages(encoder!, classifier, data.dataset.test, data.splits.test, EVAL_BATCH);
  }

  // Real epochs: passes over the labelled subset, more of them for a small subset (the step floor),
  // grouped into rounds of at least `roundImages` between evaluations (a linear probe: one pass).
  const stepsPerPass = Math.max(1, Math.ceil(labelled.length / config.batchSize));
  const passes = Math.max(config.epochs, Math.ceil(config.minSteps / stepsPerPass));
  const passesPerRound = passesPerRoundFor(config, labelled.length);
  const rounds = Math.ceil(passes / passesPerRound);
  const loop = await runTrainingLoop(
    task,
    { epochs: rounds, batchSize: config.batchSize, dropLast: false, optimizer: config.optimizer, earlyStopping: config.earlyStopping, seed: config.seed },
    { runDir: options.runDir, resume: options.resume, hooks: options.hooks, stop: options.stop, configHash: hash },
  );
  const testLabels = Int32Array.from(data.splits.test, (r) => data.dataset.test.labels[r]);
  const predicted = predictTest();
  const test = classificationReport(testLabels, predicted, NUM_CLASSES);
  const valCurve = loop.history.epochs.map((e) => e.valAccuracy ?? NaN);
  const result: SupervisedResult = {
    loop,
    test,
    testCorrect: Uint8Array.from(testLabels, (label, i) => (predicted[i] === label ? 1 : 0)),
    valAccuracy: loop.bestSelection ?? 0,
    labelledCount: labelled.length,
    passesPerRound,
    realEpochs: loop.epochsRun * passesPerRound,
    epochsToBest: loop.selectedEpoch === null ? null : loop.selectedEpoch * passesPerRound,
    plateau: reachedPlateau(valCurve),
  };
  writeJsonAtomic(path.join(options.runDir, 'result.json'), { configHash: hash, ...summarise(result) });
  disposeAll(options.encoder || !encoder ? [classifier] : [encoder, classifier]);
  return result;
}

function summarise(result: SupervisedResult): Record<string, unknown> {
  const { loop, testCorrect: _correct, ...rest } = result;
  return { ...rest, selectedEpoch: loop.selectedEpoch, epochsRun: loop.epochsRun, steps: loop.steps, imagesSeen: loop.imagesSeen, wallSeconds: loop.wallSeconds, imagesPerSecond: loop.imagesPerSecond, stoppedEarly: loop.stoppedEarly };
}

/**
 * Supervised training of encoder and classifier on augmented images of the labelled rows (from
 * scratch or fine-tuning), as a task of the training loop; validation accuracy selects the epoch.
 */
export function makeImageClassifierTask(config: SupervisedConfig, data: DataContext, encoder: Encoder, classifier: Module, labelled: Int32Array): TrainingTask {
  const { train } = data.dataset;
  const validation = data.splits.validation;
  const validationLabels = Int32Array.from(validation, (r) => train.labels[r]);
  const modules = { encoder, classifier };
  const epochRows = supervisedEpochRows(labelled, passesPerRoundFor(config, labelled.length), config.seed);
  return {
    trainable: prefixed(modules, 'trainable'),
    saved: prefixed(modules, 'both'),
    epochRows,
    batchLoss: (rows, rng) => {
      const { x, y } = gatherBatch(train, rows);
      const augmented = supervisedAugment(x, config.augment, rng);
      return softmaxCrossEntropy(classifier.apply(encoder.apply(augmented, true), true) as tf.Tensor2D, y);
    },
    evaluate: () => {
      const accuracy = accuracyOf(predictImages(encoder, classifier, train, validation, EVAL_BATCH), validationLabels);
      return { metrics: { valAccuracy: accuracy }, selection: accuracy };
    },
  };
}

/** Passes over a labelled subset of `count` images per evaluation round: whole passes holding at least `roundImages` images (a probe: 1). */
export function passesPerRoundFor(config: Pick<SupervisedConfig, 'freeze' | 'roundImages'>, count: number): number {
  return config.freeze || config.roundImages <= 0 ? 1 : Math.max(1, Math.ceil(config.roundImages / Math.max(1, count)));
}

/**
 * The rows of each round (an epoch of the training loop) of a supervised run: `passesPerRound`
 * reshuffled passes over the labelled set, back to back. Every image is seen once per pass, so a
 * run's real epochs are rounds x passesPerRound whatever the label budget.
 */
export function supervisedEpochRows(labelled: Int32Array, passesPerRound: number, seed: number): (epoch: number) => Int32Array {
  const sampler = new EpochSampler(labelled, { mode: 'all', fraction: 1 }, seed);
  if (passesPerRound <= 1) return (epoch) => sampler.indicesForEpoch(epoch);
  return (epoch) => {
    const rows = new Int32Array(passesPerRound * labelled.length);
    for (let pass = 0; pass < passesPerRound; pass++) rows.set(sampler.indicesForEpoch((epoch - 1) * passesPerRound + pass + 1), pass * labelled.length);
    return rows;
  };
}

/** (x - mean) * scale per dimension, in place; `mean` and `scale` let a probe fold it into its classifier. */
export type Standardizer = ((features: Float32Array) => Float32Array) & { mean: Float64Array; scale: Float64Array };

/** Per-dimension (x - mean) / std with statistics of `reference` [n, dim]; returns a function that standardises in place. */
export function standardizer(reference: Float32Array, dim: number): Standardizer {
  const n = reference.length / dim;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = reference[i * dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const scale = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    mean[j] /= Math.max(1, n);
    scale[j] = 1 / Math.sqrt(Math.max(sq[j] / Math.max(1, n) - mean[j] * mean[j], 0) + 1e-6);
  }
  const apply = (features: Float32Array): Float32Array => {
    for (let i = 0; i < features.length; i++) features[i] = (features[i] - mean[i % dim]) * scale[i % dim];
    return features;
  };
  return Object.assign(apply, { mean, scale });
}

function disposeAll(modules: Module[]): void {
  for (const module of modules) module.dispose();
}
