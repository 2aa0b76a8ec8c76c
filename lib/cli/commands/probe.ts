import { Command } from 'commander';
import { addCommonOptions } from '../options';
import { defaultPresetName } from './default-preset';
import { SupervisedOptions, runSupervisedCommand } from './train';

export function register(program: Command): void {
  const command = program
    .command('probe')
    .description('linear probe: a linear classifier on frozen features of a saved encoder (features extracted once, no augmentation)')
    .requiredOption('--encoder <dir>', 'folder of a saved encoder (the encoder/ folder of a pretraining run), or "scratch" for a random encoder')
    .option('--labels <pct>', 'labelled fraction of the training images, e.g. 10% or 0.1', '100%');
  addCommonOptions(command, defaultPresetName());
  command.action(async (options: SupervisedOptions & { encoder: string }) => {
    await runSupervisedCommand({ ...options, init: options.encoder, freeze: true }, 'probe', 'probe');
  });
}
