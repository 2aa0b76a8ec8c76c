import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { simclrViews } from '../augment/simclr';
import { configHash } from '../config/hash';
import type { PretrainConfig } from '../config/types';
import { EpochSampler, gatherBatch } from '../data/index';
import { knnMonitorAccuracy } from '../eval/knn-monitor';
import { softmaxCrossEntropy } from '../losses/cross-entropy';
import { ntXentLoss } from '../losses/nt-xent';
import { makeLinearClassifier, makeProjectionHead } from '../models/heads';
import { makeEncoder } from '../models/make-encoder';
import type { Encoder, Module } from '../models/types';
import { saveModule } from '../models/weights-io';
import { Rng, mixSeed } from '../util/random';
import type { DataContext } from './data-context';
import type { EpochRecord } from './history';
import { LoopResult, RunOptions, TrainingTask, runTrainingLoop } from './loop';
import { prefixed } from './modules';
import { stopGradient } from './stop-gradient';

export const NUM_CLASSES = 10;

export interface PretrainRunOptions extends Omit<RunOptions, 'configHash'> {
  /** epochs after which to save a copy of the encoder (`checkpointEncoderDir`) */
  saveEncoderAt?: number[];
}

/** Folder of the encoder a pretraining run saved after `epoch`. */
export function checkpointEncoderDir(runDir: string, epoch: number): string {
  return path.join(runDir, `encoder-epoch-${epoch}`);
}

export interface PretrainResult {
  loop: LoopResult;
  encoder: Encoder;
  /** folder of the saved encoder (`<runDir>/encoder`) */
  encoderDir: string;
}

export interface PretrainModules {
  encoder: Encoder;
  head: Module;
  probe: Module | null;
}

/** Encoder f, projection head g and the optional online probe, initialised from the run's seed. */
export function makePretrainModules(config: PretrainConfig): PretrainModules {
  const initRng = new Rng(mixSeed(config.seed, 0x5eed));
  const encoder = makeEncoder(config.encoder, initRng);
  const head = makeProjectionHead(encoder.featureDim, config.head, initRng);
  const probe = config.onlineProbe ? makeLinearClassifier(encoder.featureDim, NUM_CLASSES, initRng) : null;
  return { encoder, head, probe };
}

/** SimCLR as a task of the training loop: epochs from the sampler, the NT-Xent step, the kNN monitor. */
export function makePretrainTask(config: PretrainConfig, data: DataContext, modules: PretrainModules): TrainingTask {
  const { encoder, head, probe } = modules;
  const sampler = new EpochSampler(data.splits.trainPool, config.sampling, config.seed);
  const train = data.dataset.train;
  return {
    trainable: prefixed({ ...modules }, 'trainable'),
    saved: prefixed({ ...modules }, 'both'),
    epochRows: (epoch) => sampler.indicesForEpoch(epoch),
    batchLoss: (rows, rng) => {
      const { x, y } = gatherBatch(train, rows); // [N, 32, 32, 3], [N]
      const [view1, view2] = simclrViews(x, config.augment, rng);
      const n = view1.shape[0];
      const h = encoder.apply(tf.concat([view1, view2], 0), true) as tf.Tensor2D; // [2N, d]
      const z = head.apply(h, true) as tf.Tensor2D; // [2N, outputDim]
      let loss = ntXentLoss(z.slice([0, 0], [n, -1]), z.slice([n, 0], [n, -1]), config.temperature);
      if (probe) {
        const logits = probe.apply(stopGradient(h.slice([0, 0], [n, -1])), true) as tf.Tensor2D; // [N, 10]
        loss = tf.add(loss, softmaxCrossEntropy(logits, y)) as tf.Scalar;
      }
      return loss;
    },
    evaluate: (epoch, isLast) => {
      if (epoch % config.knn.everyEpochs !== 0 && !isLast) return { metrics: {} };
      const monitor = knnMonitorAccuracy(encoder, data, config.knn, probe, config.seed);
      return {
        metrics: {
          knnAccuracy: monitor.knnAccuracy,
          valAccuracy: monitor.knnAccuracy,
          embeddingStd: monitor.embeddingStd,
          ...(monitor.probeAccuracy === undefined ? {} : { onlineProbeAccuracy: monitor.probeAccuracy }),
        },
      };
    },
  };
}

/**
 * SimCLR pretraining (Chen et al., 2020): two augmented views of each image go through the
 * encoder f (features h) and the projection head g (projections z); NT-Xent pulls the two views of
 * an image together and pushes the other 2N - 2 views away. Labels are not used by this loss; they
 * serve only the kNN monitor and the optional online probe, whose cross-entropy is added to the
 * loss on stop-gradient features, so it never shapes the encoder.
 */
export async function pretrain(config: PretrainConfig, data: DataContext, options: PretrainRunOptions): Promise<PretrainResult> {
  const modules = makePretrainModules(config);
  const { encoder, head, probe } = modules;
  const task = makePretrainTask(config, data, modules);
  const { saveEncoderAt = [], ...runOptions } = options;
  const hash = configHash(config);
  // Encoders part-way through pretraining, for the probe of what longer pretraining buys; an
  // interrupted run saved the earlier ones before it stopped.
  const hooks = saveEncoderAt.length === 0 ? options.hooks : {
    ...options.hooks,
    onEpochEnd: (record: EpochRecord) => {
      if (saveEncoderAt.includes(record.epoch)) {
        saveModule(encoder, checkpointEncoderDir(options.runDir, record.epoch), { protocol: 'simclr-pretrain', configHash: hash, epochs: record.epoch });
      }
      options.hooks?.onEpochEnd?.(record);
    },
  };
  const loop = await runTrainingLoop(
    task,
    { epochs: config.epochs, batchSize: config.batchSize, dropLast: true, optimizer: config.optimizer, earlyStopping: { patience: 0, minDelta: 0 }, seed: config.seed },
    { ...runOptions, hooks, configHash: hash },
  );
  const encoderDir = path.join(options.runDir, 'encoder');
  saveModule(encoder, encoderDir, { protocol: 'simclr-pretrain', configHash: configHash(config), epochs: loop.epochsRun });
  head.dispose();
  probe?.dispose();
  return { loop, encoder, encoderDir };
}
