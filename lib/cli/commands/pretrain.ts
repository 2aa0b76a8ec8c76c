import * as path from 'node:path';
import { Command } from 'commander';
import { getPreset } from '../../config/presets';
import type { PretrainConfig } from '../../config/types';
import { installStopHandler, prepareContext } from '../../experiments/context';
import { pretrain } from '../../train/pretrain';
import { progressHooks } from '../../train/progress';
import { UsageError } from '../../util/errors';
import {
  CommonOptions, addCommonOptions, applyOverrides, parseBackend, parsePositiveInt, parsePositiveNumber,
} from '../options';
import { defaultPresetName } from './default-preset';

interface PretrainOptions extends CommonOptions {
  temperature?: string;
  sampling?: string;
  samplingFraction?: string;
}

/** Resolves the pretraining configuration from the preset and the command-line overrides. */
export function resolvePretrainConfig(options: PretrainOptions): PretrainConfig {
  const preset = getPreset(options.preset);
  let config: PretrainConfig = { ...preset.pretrain };
  if (options.dataDir) config = { ...config, data: { ...config.data, root: options.dataDir } };
  if (options.seed !== undefined) config = { ...config, seed: Number(options.seed) };
  if (options.epochs !== undefined) config = { ...config, epochs: parsePositiveInt(options.epochs, '--epochs') };
  if (options.batchSize !== undefined) config = { ...config, batchSize: parsePositiveInt(options.batchSize, '--batch-size') };
  if (options.lr !== undefined) config = { ...config, optimizer: { ...config.optimizer, learningRate: parsePositiveNumber(options.lr, '--lr') } };
  if (options.temperature !== undefined) config = { ...config, temperature: parsePositiveNumber(options.temperature, '--temperature') };
  if (options.sampling !== undefined) {
    if (!['all', 'fixed-subset', 'fresh-subset'].includes(options.sampling)) throw new UsageError(`--sampling must be all, fixed-subset or fresh-subset, got "${options.sampling}"`);
    config = { ...config, sampling: { ...config.sampling, mode: options.sampling as PretrainConfig['sampling']['mode'] } };
  }
  if (options.samplingFraction !== undefined) {
    const fraction = Number(options.samplingFraction);
    if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--sampling-fraction must be in (0, 1], got "${options.samplingFraction}"`);
    config = { ...config, sampling: { ...config.sampling, fraction } };
  }
  if (options.seed !== undefined && !Number.isInteger(config.seed)) throw new UsageError(`--seed must be an integer, got "${options.seed}"`);
  return applyOverrides(config, options.set);
}

export function register(program: Command): void {
  const command = program
    .command('pretrain')
    .description('SimCLR pretraining of an encoder on the training images, without labels')
    .option('--temperature <t>', 'NT-Xent temperature')
    .option('--sampling <mode>', 'images per epoch: all, fixed-subset, fresh-subset (dynamic data sampling)')
    .option('--sampling-fraction <f>', 'fraction of the training pool per epoch, in (0, 1]');
  addCommonOptions(command, defaultPresetName());
  command.action(async (options: PretrainOptions) => {
    const config = resolvePretrainConfig(options);
    const runDir = options.out ?? path.join('runs', options.preset, 'pretrain');
    const context = await prepareContext(config.data, parseBackend(options.backend));
    const stop = installStopHandler();
    try {
      const result = await pretrain(config, context.data, { runDir, resume: options.resume, hooks: progressHooks('pretrain'), stop });
      console.log(`encoder saved to ${result.encoderDir}`);
      result.encoder.dispose();
    } finally {
      stop.remove();
    }
  });
}
