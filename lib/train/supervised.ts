import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { supervisedAugment } from '../augment/supervised';
import { configHash } from '../config/hash';
import type { EpochSamplingConfig, SupervisedConfig } from '../config/types';
import { EpochSampler, gatherBatch } from '../data/index';
import { convergenceEpoch } from '../eval/convergence';
import { computeFeatureCache, gatherFeatures, type FeatureCache } from '../eval/feature-cache';
import { accuracyOf } from '../eval/knn-monitor';
import { classificationReport, type ClassificationReport } from '../eval/metrics';
import { predictFeatures, predictImages } from '../eval/predict';
import { softmaxCrossEntropy } from '../losses/cross-entropy';
import { makeLinearClassifier } from '../models/heads';
import { makeEncoder } from '../models/make-encoder';
import type { Encoder, Module } from '../models/types';
import { loadModuleWeights } from '../models/weights-io';
import { writeJsonAtomic } from '../util/atomic-write';
import { UsageError } from '../util/errors';
import { Rng, mixSeed } from '../util/random';
import type { DataContext } from './data-context';
import { LoopResult, RunOptions, TrainingTask, runTrainingLoop } from './loop';
import { prefixed } from './modules';
import { NUM_CLASSES } from './pretrain';

const EVAL_BATCH = 256;

export interface SupervisedResult {
  loop: LoopResult;
  /** metrics on the test set, measured once with the weights of the selected epoch */
  test: ClassificationReport;
  /** best validation accuracy */
  valAccuracy: number;
  convergenceEpoch: number | null;
  /** labelled training images used */
  labelledCount: number;
}

/** Builds the encoder of a run: random, or loaded from a saved encoder folder (checked against the configuration). */
export function initialEncoder(config: SupervisedConfig, rng: Rng): Encoder {
  const encoder = makeEncoder(config.encoder, rng);
  if (config.init !== 'scratch') {
    if (!fs.existsSync(config.init)) {
      encoder.dispose();
      throw new UsageError(`encoder folder ${config.init} does not exist; pass --init scratch or the encoder/ folder of a pretraining run`);
    }
    loadModuleWeights(encoder, config.init);
  }
  return encoder;
}

/**
 * Supervised training on a class-balanced `labelFraction` of the training labels, in one of three
 * forms: from scratch (`init: 'scratch'`), fine-tuning a saved encoder, or a linear probe
 * (`freeze: true`), where features are extracted once without augmentation and only a linear
 * classifier is trained on them, so the encoder cannot change. The epoch with the best validation
 * accuracy is kept; the test set is touched once, at the end.
 */
export interface SupervisedRunOptions extends Omit<RunOptions, 'configHash'> {
  /** features of the frozen encoder, when the caller already extracted them (linear probes only) */
  featureCache?: FeatureCache;
  /** use this encoder instead of building one from `config.init` (the caller keeps and disposes it) */
  encoder?: Encoder;
}

export async function trainSupervised(config: SupervisedConfig, data: DataContext, options: SupervisedRunOptions): Promise<SupervisedResult> {
  if (!(config.labelFraction > 0 && config.labelFraction <= 1)) {
    throw new UsageError(`label fraction must be in (0, 1], got ${config.labelFraction}`);
  }
  const initRng = new Rng(mixSeed(config.seed, 0x5eed));
  const encoder = options.encoder ?? initialEncoder(config, initRng);
  const classifier = makeLinearClassifier(encoder.featureDim, NUM_CLASSES, initRng);
  const { train } = data.dataset;
  const labelled = data.splits.labelled(config.labelFraction, config.seed);
  const validation = data.splits.validation;
  const hash = configHash(config);

  let task: TrainingTask;
  let predictTest: () => Int32Array;
  if (config.freeze) {
    const cache = options.featureCache ?? computeFeatureCache(encoder, data, Int32Array.from(new Set([...labelled, ...validation])).sort());
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
      epochRows: (epoch) => shuffledRows(labelled.length, config.seed, epoch),
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
    predictTest = () => predictFeatures(classifier, standardize(gatherFeatures(cache.test, dim, data.splits.test)), dim, EVAL_BATCH);
  } else {
    task = makeImageClassifierTask(config, data, encoder, classifier, labelled);
    predictTest = () => predictImages(encoder, classifier, data.dataset.test, data.splits.test, EVAL_BATCH);
  }

  const imagesPerEpoch = config.freeze || config.maxImagesPerEpoch <= 0 ? labelled.length : Math.min(labelled.length, config.maxImagesPerEpoch);
  const stepsPerEpoch = Math.max(1, Math.ceil(imagesPerEpoch / config.batchSize));
  const epochs = Math.max(config.epochs, Math.ceil(config.minSteps / stepsPerEpoch));
  const loop = await runTrainingLoop(
    task,
    { epochs, batchSize: config.batchSize, dropLast: false, optimizer: config.optimizer, earlyStopping: config.earlyStopping, seed: config.seed },
    { runDir: options.runDir, resume: options.resume, hooks: options.hooks, stop: options.stop, configHash: hash },
  );
  const testLabels = Int32Array.from(data.splits.test, (r) => data.dataset.test.labels[r]);
  const test = classificationReport(testLabels, predictTest(), NUM_CLASSES);
  const valCurve = loop.history.epochs.map((e) => e.valAccuracy ?? 0);
  const result: SupervisedResult = {
    loop,
    test,
    valAccuracy: loop.bestSelection ?? 0,
    convergenceEpoch: convergenceEpoch(valCurve),
    labelledCount: labelled.length,
  };
  writeJsonAtomic(path.join(options.runDir, 'result.json'), { configHash: hash, ...summarise(result) });
  disposeAll(options.encoder ? [classifier] : [encoder, classifier]);
  return result;
}

function summarise(result: SupervisedResult): Record<string, unknown> {
  const { loop, ...rest } = result;
  return { ...rest, selectedEpoch: loop.selectedEpoch, epochsRun: loop.epochsRun, wallSeconds: loop.wallSeconds, imagesPerSecond: loop.imagesPerSecond, stoppedEarly: loop.stoppedEarly };
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
  const sampler = new EpochSampler(labelled, epochSampling(labelled.length, config.maxImagesPerEpoch), config.seed);
  return {
    trainable: prefixed(modules, 'trainable'),
    saved: prefixed(modules, 'both'),
    epochRows: (epoch) => sampler.indicesForEpoch(epoch),
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

/** The whole labelled set each epoch, or a fresh random subset of `maxImagesPerEpoch` when it is larger. */
export function epochSampling(labelled: number, maxImagesPerEpoch: number): EpochSamplingConfig {
  return maxImagesPerEpoch > 0 && maxImagesPerEpoch < labelled
    ? { mode: 'fresh-subset', fraction: maxImagesPerEpoch / labelled }
    : { mode: 'all', fraction: 1 };
}

/** Per-dimension (x - mean) / std with statistics of `reference` [n, dim]; returns a function that standardises in place. */
export function standardizer(reference: Float32Array, dim: number): (features: Float32Array) => Float32Array {
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
  return (features) => {
    for (let i = 0; i < features.length; i++) features[i] = (features[i] - mean[i % dim]) * scale[i % dim];
    return features;
  };
}

/** 0..count-1 in a seeded order that depends only on (seed, epoch), so a resumed run visits the same order. */
export function shuffledRows(count: number, seed: number, epoch: number): Int32Array {
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) rows[i] = i;
  return new Rng(mixSeed(seed, epoch, 0x0bde)).shuffle(rows);
}

function disposeAll(modules: Module[]): void {
  for (const module of modules) module.dispose();
}
