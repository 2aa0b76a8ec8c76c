import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_ORDER, parseBackendName } from '../../backend/select';
import { getPreset } from '../../config/presets';
import { loadCifar, makeSplits, resolveDataDir } from '../../data/index';
import { benchTable, kernelBreakdown, measureBackend, roundsSummary, runBenchmark } from '../../experiments/bench';
import { updateReadme } from '../../report/readme';
import type { DataContext } from '../../train/data-context';
import { writeJsonAtomic } from '../../util/atomic-write';
import { UserError } from '../../util/errors';
import { parsePositiveInt } from '../options';

interface BenchCommandOptions {
  presets: string;
  backends: string;
  steps: string;
  rounds: string;
  dataDir: string;
  out: string;
  /** false with --no-doc */
  doc: string | false;
  /** false with --no-pytorch */
  pytorch: string | false;
  /** internal: measure this backend in this process (one turn of a round) and write the result to measureOut */
  measure?: string;
  measureOut?: string;
  measureProfile?: boolean;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('images/s of the real SimCLR and supervised training steps per preset encoder and backend, with a per-kernel breakdown; writes results/bench and the benchmark section of docs/performance.md')
    .option('--presets <names>', 'comma-separated presets whose encoders are timed', 'quick,cpu')
    .option('--backends <names>', 'comma-separated backends (unavailable ones are skipped with the reason)', 'onnx,wasm')
    .option('--steps <n>', 'timed steps per case and round (after two untimed warm-up steps)', '4')
    .option('--rounds <n>', 'times each backend and PyTorch take their turn (the load of a shared machine drifts; each case reports its median round)', '3')
    .option('--data-dir <dir>', 'folder holding cifar-10-batches-bin', 'data')
    .option('--out <dir>', 'where bench.json and bench.md go', path.join('results', 'bench'))
    .option('--doc <file>', 'document whose benchmark section (bench markers) is regenerated', 'docs/performance.md')
    .option('--no-doc', 'write results/bench only')
    .option('--pytorch <python>', 'Python whose PyTorch times the same steps for comparison (bench/pytorch-step.py); skipped with a message when it has no torch', '/usr/bin/python3')
    .option('--no-pytorch', 'no PyTorch comparison')
    .addOption(new Option('--measure <backend>').hideHelp())
    .addOption(new Option('--measure-out <file>').hideHelp())
    .addOption(new Option('--measure-profile').hideHelp())
    .action(async (options: BenchCommandOptions) => {
      if (options.measure !== undefined) {
        await measureTurn(options);
        return;
      }
      // Presets that train the same encoder at the same batch sizes would time the same steps twice.
      const seen = new Map<string, string>();
      const presets = options.presets.split(',').map((p) => getPreset(p.trim())).filter((preset) => {
        const key = JSON.stringify([preset.pretrain.encoder, preset.pretrain.head, preset.pretrain.batchSize, preset.scratch.batchSize]);
        const twin = seen.get(key);
        if (twin) console.log(`${preset.name}: same encoder, head and batch sizes as ${twin}, not timed again`);
        else seen.set(key, preset.name);
        return !twin;
      }).map((preset) => preset.name);
      const backends = options.backends.split(',').map((b) => parseBackendName(b.trim(), '--backends'));
      const steps = parsePositiveInt(options.steps, '--steps');
      const rounds = parsePositiveInt(options.rounds, '--rounds');
      const dataDir = resolveDataDir(options.dataDir);
      if (!fs.existsSync(dataDir)) throw new UserError(`no CIFAR-10 in ${dataDir}; the benchmark uses real images: run \`npx cifar-ssl data\` first`);
      const started = Date.now();
      const { cases, reference, devices } = runBenchmark({
        presets, backends, steps, rounds, dataDir: options.dataDir, python: options.pytorch === false ? null : options.pytorch, log: (l) => console.log(l),
      });
      const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
      const command = `npx cifar-ssl bench --presets ${presets.join(',')} --backends ${backends.join(',')} --steps ${steps} --rounds ${rounds}${options.pytorch === false ? ' --no-pytorch' : ''}`;
      const markdown = [
        `Measured by \`${command}\` on ${machine}, ${new Date().toISOString().slice(0, 10)}, ${((Date.now() - started) / 1000).toFixed(0)} s. ` +
          'Images per second of one optimizer step with augmentation, forward, loss, gradients and update; a SimCLR image is two views. ' +
          `The backends${reference ? ' and PyTorch' : ''} took turns for ${rounds} round${rounds === 1 ? '' : 's'} of ${steps} timed steps; each number is the median round's median step` +
          (reference ? ', and the ratio to PyTorch the median over rounds of the two steps timed in the same round.' : '.'),
        '',
        benchTable(cases, reference),
        '',
        ...Object.entries(devices).map(([backend, device]) => `- ${backend}: ${device}`),
        '',
        `Median step per round, ms: ${roundsSummary(cases, reference)}.`,
        '',
        'Largest kernels of one profiled step:',
        '',
        kernelBreakdown(cases),
      ].join('\n');
      writeJsonAtomic(path.join(options.out, 'bench.json'), { command, machine, backendsAvailable: BACKEND_ORDER, cases, reference });
      fs.writeFileSync(path.join(options.out, 'bench.md'), markdown + '\n');
      if (options.doc !== false) updateReadme(options.doc, markdown, 'bench');
      console.log(markdown);
    });
}

/** One backend's turn of a round, in the process the parent started for it. */
async function measureTurn(options: BenchCommandOptions): Promise<void> {
  if (options.measureOut === undefined) throw new UserError('--measure needs --measure-out');
  const dataset = loadCifar(resolveDataDir(options.dataDir));
  const data: DataContext = { dataset, splits: makeSplits(dataset, getPreset('quick').data) };
  const backend = parseBackendName(options.measure ?? '', '--measure');
  const presets = options.presets.split(',').map((p) => p.trim());
  const measurement = await measureBackend(backend, presets, parsePositiveInt(options.steps, '--steps'), options.measureProfile === true, data);
  writeJsonAtomic(options.measureOut, measurement);
}
