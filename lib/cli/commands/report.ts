import { Command } from 'commander';
import { selectBackend } from '../../backend/select';
import { PRESET_NAMES, getPreset } from '../../config/presets';
import { type CifarDataset, hasBatchFiles, loadCifar, resolveDataDir } from '../../data/index';
import { buildReport } from '../../report/build-report';
import { defaultPresetName } from './default-preset';

/**
 * The data set when it is installed: the report then also draws sample images and augmentation
 * pairs. The report never downloads or imports data; without it those two figures are left out.
 */
async function installedDataset(preset: string): Promise<CifarDataset | undefined> {
  const dir = resolveDataDir(getPreset(preset).data.root);
  if (!hasBatchFiles(dir)) {
    console.log(`no data in ${dir}: the dataset-samples and augmentation-pairs figures are left out (npx cifar-ssl data installs it)`);
    return undefined;
  }
  await selectBackend(); // the augmentation pairs run tensor operations
  return loadCifar(dir);
}

interface ReportCommandOptions {
  preset: string;
  results: string;
  figures: string;
  /** false with --no-readme */
  readme: string | false;
  resultsDoc: string;
  png: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('figures, tables, the README headline and the full results section (docs/results.md) from the records of a preset (trains nothing)')
    .option('--preset <name>', PRESET_NAMES.join(', '), defaultPresetName())
    .option('--results <dir>', 'records are read from <dir>/<preset>; CSV tables are written there', 'results')
    .option('--figures <dir>', 'figures go to <dir>/<preset>', 'figures')
    .option('--readme <file>', 'README whose presets table and headline-<preset> section are regenerated', 'README.md')
    .option('--results-doc <file>', 'document whose results-<preset> section (every table and figure) is regenerated', 'docs/results.md')
    .option('--no-readme', 'leave the README and the results document alone')
    .option('--no-png', 'write interactive HTML figures only (no Chromium needed)')
    .action(async (options: ReportCommandOptions) => {
      const dataset = await installedDataset(options.preset);
      const output = await buildReport({
        preset: options.preset,
        data: dataset ? { dataset } : undefined,
        resultsRoot: options.results,
        figuresDir: options.figures,
        readme: options.readme === false ? null : options.readme,
        resultsDoc: options.readme === false ? null : options.resultsDoc,
        png: options.png,
      });
      console.log(`tables: ${output.tables.join(', ')}`);
      if (options.readme !== false) console.log(`results sections updated in ${options.readme} and ${options.resultsDoc}`);
    });
}
