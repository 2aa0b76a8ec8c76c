import { Command } from 'commander';
import { buildReport } from '../../report/build-report';
import { defaultPresetName } from './default-preset';

interface ReportCommandOptions {
  preset: string;
  results: string;
  figures: string;
  /** false with --no-readme */
  readme: string | false;
  png: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('figures, tables and the README results section from the records of a preset (trains nothing)')
    .option('--preset <name>', 'smoke, quick, cpu or paper', defaultPresetName())
    .option('--results <dir>', 'records are read from <dir>/<preset>; CSV tables are written there', 'results')
    .option('--figures <dir>', 'figures go to <dir>/<preset>', 'figures')
    .option('--readme <file>', 'README whose results section (between the results markers) is regenerated', 'README.md')
    .option('--no-readme', 'leave the README alone')
    .option('--no-png', 'write interactive HTML figures only (no Chromium needed)')
    .action(async (options: ReportCommandOptions) => {
      const output = await buildReport({
        preset: options.preset,
        resultsRoot: options.results,
        figuresDir: options.figures,
        readme: options.readme === false ? null : options.readme,
        png: options.png,
      });
      console.log(`tables: ${output.tables.join(', ')}`);
      if (options.readme !== false) console.log(`README results section updated in ${options.readme}`);
    });
}
