import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { resolveDataDir } from '../../data/index';
import { PRESET_NAMES, getPreset } from '../../config/presets';
import { installStopHandler, prepareContext } from '../../experiments/context';
import { runStudy } from '../../experiments/study';
import { buildReport } from '../../report/build-report';
import { progressHooks } from '../../train/progress';
import { runData } from './data';
import { parseBackend } from '../options';
import { defaultPresetName } from './default-preset';

interface StudyCommandOptions {
  preset: string;
  backend?: string;
  dataDir: string;
  from?: string;
  results: string;
  runs: string;
  figures: string;
  readme: string;
  resultsDoc: string;
  report: boolean;
  png: boolean;
}

export function register(program: Command): void {
  program
    .command('study')
    .description('the whole study: data, SimCLR pretraining and ablation, kNN / linear probe / fine-tuning at N% labels, supervised baselines, random-encoder floor, figures, tables and the README results; finished runs are skipped, interrupted ones resume')
    .option('--preset <name>', PRESET_NAMES.join(', '), defaultPresetName())
    .option('--backend <name>', 'tensorflow, webgpu, onnx, wasm or cpu (default: fastest available)')
    .option('--data-dir <dir>', 'folder holding cifar-10-batches-bin', 'data')
    .option('--from <path>', 'import CIFAR-10 from a local .tar.gz or folder (also CIFAR_SSL_DATA_FROM); without it, missing data is downloaded')
    .option('--results <dir>', 'records, histories and summaries go to <dir>/<preset>', 'results')
    .option('--runs <dir>', 'checkpoints go to <dir>/<preset>', 'runs')
    .option('--figures <dir>', 'figures folder', 'figures')
    .option('--readme <file>', 'README whose presets table and headline-<preset> section are regenerated', 'README.md')
    .option('--results-doc <file>', 'document whose results-<preset> section (every table and figure) is regenerated', 'docs/results.md')
    .option('--no-report', 'skip the analysis step (figures, tables, README)')
    .option('--no-png', 'write interactive HTML figures only')
    .action(async (options: StudyCommandOptions) => {
      const preset = getPreset(options.preset);
      const started = Date.now();
      // Step 1: data. Valid data in place is kept (an explicit --from only fills a missing copy).
      const present = fs.existsSync(path.join(resolveDataDir(options.dataDir), 'test_batch.bin'));
      await runData({ dir: options.dataDir, from: present ? undefined : options.from, force: false });
      const context = await prepareContext({ ...preset.data, root: options.dataDir }, parseBackend(options.backend));
      const stop = installStopHandler();
      try {
        await runStudy({
          preset: { ...preset, data: { ...preset.data, root: options.dataDir } },
          context,
          resultsRoot: options.results,
          runsRoot: options.runs,
          hooks: (label) => progressHooks(label),
          log: (line) => console.log(line),
          stop,
        });
      } finally {
        stop.remove();
      }
      if (options.report) {
        await buildReport({ preset: preset.name, resultsRoot: options.results, figuresDir: options.figures, readme: options.readme, resultsDoc: options.resultsDoc, png: options.png, data: context.data });
      }
      console.log(`study ${preset.name} done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
    });
}
