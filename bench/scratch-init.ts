/**
 * Does the weight initialisation explain why our scratch ResNet trails a PyTorch re-implementation
 * of the same recipe? Trains the preset's scratch ResNet at 100 % labels with our He-normal
 * initialisation and with PyTorch's default (kaiming_uniform with a = sqrt(5): std 1 / sqrt(3 fan_in)
 * for convolutions and the classifier, classifier bias uniform in +-1 / sqrt(fan_in)), several
 * seeds each, and prints validation and test accuracy.
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

/** PyTorch's default init for every conv / dense kernel of a module (biases of dense layers too). */
function pytorchDefault(module: Module, rng: Rng): void {
  for (const [name, v] of module.trainable) {
    if (name.endsWith('.kernel')) {
      const fanIn = v.shape.length === 4 ? v.shape[0] * v.shape[1] * v.shape[2] : v.shape[0];
      const bound = 1 / Math.sqrt(fanIn); // kaiming_uniform(a = sqrt 5): bound = sqrt(6 / ((1 + 5) fan_in))
      v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.uniform(-bound, bound)), v.shape));
    } else if (name.endsWith('.bias')) {
      const fanIn = module.trainable.get(name.replace('.bias', '.kernel'))!.shape[0];
      const bound = 1 / Math.sqrt(fanIn);
      v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.uniform(-bound, bound)), v.shape));
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
      if (variant === 'pytorch-default') {
        pytorchDefault(encoder, new Rng(mixSeed(seed, 7)));
        pytorchDefault(classifier, new Rng(mixSeed(seed, 8)));
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
