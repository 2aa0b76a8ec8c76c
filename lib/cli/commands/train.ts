import * as path from 'node:path';
import { Command } from 'commander';
import { getPreset } from '../../config/presets';
import type { SupervisedConfig } from '../../config/types';
import { installStopHandler, prepareContext } from '../../experiments/context';
import { progressHooks } from '../../train/progress';
import { assertSavedEncoder, trainSupervised, validateSupervisedConfig } from '../../train/supervised';
import { UsageError } from '../../util/errors';
import {
  CommonOptions, addCommonOptions, applyOverrides, parseBackend, parseLabelFraction, parsePositiveInt, parsePositiveNumber,
} from '../options';
import { defaultPresetName } from './default-preset';

export interface SupervisedOptions extends CommonOptions {
  labels: string;
  init?: string;
  freeze?: boolean;
  model?: string;
}

/** Which of the preset's supervised configurations a command starts from. */
export type SupervisedBase = 'scratch' | 'probe' | 'finetune' | 'basicCnn';

export function resolveSupervisedConfig(options: SupervisedOptions, base: SupervisedBase): SupervisedConfig {
  const preset = getPreset(options.preset);
  let config: SupervisedConfig = { ...preset[base], labelFraction: parseLabelFraction(options.labels) };
  if (options.init !== undefined) config = { ...config, init: options.init };
  if (options.freeze !== undefined) config = { ...config, freeze: options.freeze };
  if (options.dataDir) config = { ...config, data: { ...config.data, root: options.dataDir } };
  if (options.seed !== undefined) {
    const seed = Number(options.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${options.seed}"`);
    config = { ...config, seed };
  }
  if (options.epochs !== undefined) config = { ...config, epochs: parsePositiveInt(options.epochs, '--epochs'), minSteps: 0 };
  if (options.batchSize !== undefined) config = { ...config, batchSize: parsePositiveInt(options.batchSize, '--batch-size') };
  if (options.lr !== undefined) config = { ...config, optimizer: { ...config.optimizer, learningRate: parsePositiveNumber(options.lr, '--lr') } };
  config = applyOverrides(config, options.set);
  validateSupervisedConfig(config);
  return config;
}

export async function runSupervisedCommand(options: SupervisedOptions, base: SupervisedBase, label: string): Promise<void> {
  const config = resolveSupervisedConfig(options, base);
  const pct = Math.round(config.labelFraction * 10000) / 100;
  const runDir = options.out ?? path.join('runs', options.preset, `${label}-${pct}pct-seed${config.seed}`);
  // arguments first: a wrong encoder folder is a usage error whether or not the data is there
  if (config.init !== 'scratch') assertSavedEncoder(config.init);
  const context = await prepareContext(config.data, parseBackend(options.backend));
  const stop = installStopHandler();
  try {
    const result = await trainSupervised(config, context.data, { runDir, resume: options.resume, hooks: progressHooks(label), stop });
    const t = result.test;
    console.log(
      `${label} on ${pct}% of the labels (${result.labelledCount} images): test accuracy ${(100 * t.accuracy).toFixed(2)}%, ` +
      `macro F1 ${(100 * t.macroF1).toFixed(2)}%, best validation ${(100 * result.valAccuracy).toFixed(2)}% at epoch ${result.loop.selectedEpoch}; run folder ${runDir}`,
    );
  } finally {
    stop.remove();
  }
}

export function register(program: Command): void {
  const command = program
    .command('train')
    .description('supervised training on N% of the labels: from scratch, fine-tuning a saved encoder, or a frozen linear probe')
    .option('--labels <pct>', 'labelled fraction of the training images, e.g. 10% or 0.1', '100%')
    .option('--init <scratch|dir>', 'start from random weights or from a saved encoder folder', 'scratch')
    .option('--freeze', 'keep the encoder fixed and train only the linear classifier (linear probe)')
    .option('--model <kind>', 'resnet (the preset encoder) or basic-cnn', 'resnet');
  addCommonOptions(command, defaultPresetName());
  command.action(async (options: SupervisedOptions) => {
    if (options.model !== 'resnet' && options.model !== 'basic-cnn') throw new UsageError(`--model must be resnet or basic-cnn, got "${options.model}"`);
    const base: SupervisedBase = options.model === 'basic-cnn' ? 'basicCnn' : options.freeze ? 'probe' : options.init && options.init !== 'scratch' ? 'finetune' : 'scratch';
    await runSupervisedCommand(options, base, options.freeze ? 'probe' : 'train');
  });
}
