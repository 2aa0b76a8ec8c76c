import { Command } from 'commander';
import * as path from 'node:path';
import { executeNotebooks, listNotebooks, projectRoot, type NotebookOutput } from '../../report/notebooks';
import { UsageError } from '../../util/errors';

interface NotebooksCommandOptions {
  preset?: string;
  only?: string;
  inplace: boolean;
  out?: string;
  timeout: string;
  results?: string;
  runs?: string;
}

export function register(program: Command): void {
  program
    .command('notebooks')
    .description('run notebooks/*.ipynb top to bottom, headless, with the project\'s tslab kernel; a failing cell fails the command')
    .option('--preset <name>', 'preset the notebooks use (sets CIFAR_SSL_PRESET)')
    .option('--only <prefixes>', 'comma-separated name prefixes, e.g. 01,02')
    .option('--inplace', 'write outputs back into the notebooks (the default)', false)
    .option('--out <dir>', 'write executed copies to <dir> instead')
    .option('--timeout <seconds>', 'limit per cell (-1: none)', '3600')
    .option('--results <dir>', 'results root the notebooks read and write (sets CIFAR_SSL_RESULTS; default: results)')
    .option('--runs <dir>', 'checkpoint root of the runs the notebooks start (sets CIFAR_SSL_RUNS; default: runs)')
    .action(async (options: NotebooksCommandOptions) => {
      if (options.inplace && options.out) throw new UsageError('--inplace and --out exclude each other: pick one');
      const timeout = Number(options.timeout);
      if (!Number.isInteger(timeout) || (timeout < 1 && timeout !== -1)) {
        throw new UsageError(`--timeout must be a positive number of seconds or -1, got "${options.timeout}"`);
      }
      const only = options.only ? options.only.split(',').map((s) => s.trim()).filter(Boolean) : [];
      const notebooks = listNotebooks(path.join(projectRoot(), 'notebooks'), only);
      const output: NotebookOutput = options.out ? { dir: path.resolve(options.out) } : { inplace: true };
      const results = await executeNotebooks({
        notebooks, output, timeoutSeconds: timeout, preset: options.preset, resultsRoot: options.results, runsRoot: options.runs,
      });
      const seconds = results.reduce((s, r) => s + r.seconds, 0);
      console.log(`${results.length} notebook(s) ran without errors in ${seconds.toFixed(0)} s`);
    });
}
