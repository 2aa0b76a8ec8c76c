/**
 * Does the weight initialisation explain why our scratch ResNet trailed a PyTorch re-implementation
 * of the same recipe? Trains the preset's scratch ResNet at 100 % labels with He-normal weights (the
 * library's initialisation until this comparison; classifier std 1 / sqrt(fan_in), zero bias) and
 * with PyTorch's default (kaiming_uniform with a = sqrt(5), the library's initialisation since),
 * several seeds each, and prints validation and test accuracy.
 *   npx tsx bench/scratch-init.ts [preset] [epochs] [seeds] [variants, comma-separated]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getPreset } from '../lib/config/presets';
import { prepareContext } from '../lib/experiments/context';
import { accuracyOf } from '../lib/eval/knn-monitor';
import { predictImages } from '../lib/eval/predict';
import { makeLinearClassifier } from '../lib/models/heads';
import { makeEncoder } from '../lib/models/make-encoder';
import type { Module } from '../lib/models/types';
import { runTrainingLoop } from '../lib/train/loop';
import { makeImageClassifierTask, passesPerRoundFor } from '../lib/train/supervised';
import { Rng, mixSeed } from '../lib/util/random';

/** He-normal kernels (std sqrt(2 / fan_in) for convolutions, 1 / sqrt(fan_in) for the classifier) and zero biases. */
function heNormal(module: Module, gain: number, rng: Rng): void {
  for (const [name, v] of module.trainable) {
    if (name.endsWith('.kernel')) {
      const fanIn = v.shape.length === 4 ? v.shape[0] * v.shape[1] * v.shape[2] : v.shape[0];
      const std = gain / Math.sqrt(fanIn);
      v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => std * rng.normal()), v.shape));
    } else if (name.endsWith('.bias')) {
      v.assign(tf.zeros(v.shape));
    }
  }
}

async function main(): Promise<void> {
  const [presetName = 'quick', epochsArg = '4', seedsArg = '3', variantsArg = 'he-normal,pytorch-default'] = process.argv.slice(2);
  const preset = getPreset(presetName);
  const { data } = await prepareContext(preset.data, 'onnx');
  const config = { ...preset.scratch, labelFraction: 1 };
  const labelled = data.splits.labelled(1, 0);
  const testLabels = Int32Array.from(data.splits.test, (r) => data.dataset.test.labels[r]);
  for (const variant of variantsArg.split(',')) {
    for (let seed = 0; seed < Number(seedsArg); seed++) {
      const encoder = makeEncoder(config.encoder, new Rng(mixSeed(seed, 0x5eed)));
      const classifier = makeLinearClassifier(encoder.featureDim, 10, new Rng(mixSeed(seed, 0xc1a551f)));
      if (variant === 'he-normal') {
        heNormal(encoder, Math.SQRT2, new Rng(mixSeed(seed, 7)));
        heNormal(classifier, 1, new Rng(mixSeed(seed, 8)));
      }
      const task = makeImageClassifierTask({ ...config, seed }, data, encoder, classifier, labelled);
      const passesPerRound = passesPerRoundFor(config, labelled.length);
      const loop = await runTrainingLoop(
        task,
        { epochs: Math.ceil(Number(epochsArg) / passesPerRound), batchSize: config.batchSize, dropLast: false, optimizer: config.optimizer, earlyStopping: { patience: 0, minDelta: 0 }, seed },
        { runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'init-')), resume: false, configHash: variant },
      );
      const test = accuracyOf(predictImages(encoder, classifier, data.dataset.test, data.splits.test, 256), testLabels);
      const last = loop.history.epochs[loop.history.epochs.length - 1];
      console.log(`${variant} seed ${seed}: train loss ${last.trainLoss.toFixed(3)}, best val ${(100 * (loop.bestSelection ?? 0)).toFixed(1)}%, test ${(100 * test).toFixed(1)}%, ${loop.wallSeconds.toFixed(0)} s`);
      encoder.dispose();
      classifier.dispose();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
