import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select';
import { DeviceLimitError } from '../backend/webgpu/buffer-limits';
import { getPreset } from '../config/presets';
import type { BackendName } from '../config/types';
import { makeLinearClassifier } from '../models/heads';
import { makeEncoder } from '../models/make-encoder';
import type { DataContext } from '../train/data-context';
import { type TrainingTask, runTrainingLoop } from '../train/loop';
import { makePretrainModules, makePretrainTask } from '../train/pretrain';
import { makeImageClassifierTask } from '../train/supervised';
import { Rng } from '../util/random';
import { median } from '../util/median';
import { trainingNodeFlags } from '../util/node-flags';

export interface BenchCase {
  preset: string;
  step: 'simclr' | 'supervised';
  backend: BackendName;
  batchSize: number;
  /** training images per second of the median step (a SimCLR image is two views) */
  imagesPerSecond: number;
  /** median over rounds of each round's median wall milliseconds of one optimizer step */
  stepMs: number;
  /** each round's median step, ms (the spread shows how much the machine's load moved) */
  roundStepMs: number[];
  /** share of one profiled step per kernel, largest first */
  kernels: Array<{ name: string; ms: number; share: number }>;
}

export interface BenchOptions {
  presets: string[];
  backends: BackendName[];
  /** timed steps per case and round, after WARM_UP_STEPS untimed ones */
  steps: number;
  /** times every backend (and PyTorch) takes its turn */
  rounds: number;
  /** the --data-dir of the command (the folder holding cifar-10-batches-bin, or that folder itself) */
  dataDir: string;
  /** Python whose PyTorch times the same steps each round (bench/pytorch-step.py), or null */
  python: string | null;
  log: (line: string) => void;
}

export interface BenchResult {
  cases: BenchCase[];
  reference: ReferenceRun | null;
  /** what each measured backend ran on (for webgpu: the adapter), from its selection report */
  devices: Partial<Record<BackendName, string>>;
}

/** What one measuring process reports for its backend: each case's median step, and kernel profiles when asked. */
export interface BackendMeasurement {
  backend: BackendName;
  /** why the backend could not be measured (it did not load); no cases then */
  skipped?: string;
  /** what runs, as the backend's selection reported it */
  device?: string;
  cases: Array<Omit<BenchCase, 'imagesPerSecond' | 'roundStepMs'>>;
  /** cases that failed (e.g. a tensor over the device's buffer limit), with the reason */
  failed?: string[];
}

/**
 * Times the real training step of the presets' encoders (the same task objects and loop the runs
 * use: augmentation, forward, loss, gradients, optimizer) on each backend, profiles one step per
 * kernel, and times the same steps in PyTorch. Each backend's turn runs in a fresh process, as a
 * training run would (in one process the backends share the heap, the garbage collector and the
 * caches). The machine's load drifts over minutes, so the backends and PyTorch take turns for
 * `rounds` rounds and each case reports its median round: the ratios then compare steps measured
 * side by side, not minutes apart.
 */
export function runBenchmark(options: BenchOptions): BenchResult {
  const rounds = new Map<string, { first: BackendMeasurement['cases'][number]; stepMs: number[] }>();
  const skipped = new Set<BackendName>();
  const referenceRounds: ReferenceRun[] = [];
  const devices: BenchResult['devices'] = {};
  let python = options.python;
  for (let round = 0; round < options.rounds; round++) {
    for (const backend of options.backends) {
      if (skipped.has(backend)) continue;
      const measurement = measureInChild(backend, options, round === 0);
      if (measurement.skipped !== undefined) {
        options.log(`${backend}: skipped (${measurement.skipped})`);
        skipped.add(backend);
        continue;
      }
      if (measurement.device !== undefined) devices[backend] = measurement.device;
      for (const failure of measurement.failed ?? []) options.log(`round ${round + 1}: ${backend} ${failure}`);
      for (const c of measurement.cases) {
        const key = `${backend}|${c.preset}|${c.step}`;
        const entry = rounds.get(key) ?? { first: c, stepMs: [] };
        entry.stepMs.push(c.stepMs);
        rounds.set(key, entry);
        options.log(`round ${round + 1}: ${backend} ${c.preset} ${c.step} batch ${c.batchSize}: ${((1000 * c.batchSize) / c.stepMs).toFixed(0)} images/s (${c.stepMs.toFixed(0)} ms/step)`);
      }
    }
    if (python !== null) {
      const reference = pytorchReference(python, options.presets, options.steps, (line) => options.log(`round ${round + 1}: ${line}`));
      if (reference === null) python = null;
      else referenceRounds.push(reference);
    }
  }
  const cases = [...rounds.values()].map(({ first, stepMs }) => {
    const ms = median(stepMs);
    return { ...first, stepMs: ms, imagesPerSecond: (1000 * first.batchSize) / ms, roundStepMs: stepMs };
  });
  return { cases, reference: combineRounds(referenceRounds), devices };
}

/** The command line, run by measureInChild with the `bench` command's hidden --measure option. */
const CLI = path.join(__dirname, '..', '..', 'bin', 'cifar-ssl.js');

/** measureBackend in a fresh `cifar-ssl bench --measure` process. */
function measureInChild(backend: BackendName, options: BenchOptions, profile: boolean): BackendMeasurement {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-bench-'));
  const out = path.join(dir, 'measurement.json');
  try {
    const args = [
      CLI, 'bench', '--measure', backend, '--measure-out', out, '--presets', options.presets.join(','),
      '--steps', String(options.steps), '--data-dir', options.dataDir, ...(profile ? ['--measure-profile'] : []),
    ];
    // Started with the command line's V8 flags, so that it does not start itself again to add them.
    const child = spawnSync(process.execPath, [...trainingNodeFlags(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    if (child.status !== 0 || !fs.existsSync(out)) {
      const reason = `${child.stderr}\n${child.stdout}`.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn')).slice(-3).join(' ');
      throw new Error(`the ${backend} measuring process failed (exit ${child.status}): ${reason}`);
    }
    return JSON.parse(fs.readFileSync(out, 'utf8')) as BackendMeasurement;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * In this process: selects `backend` and times every preset's SimCLR and supervised steps,
 * profiling one step of each when asked. A backend that does not load is reported as skipped.
 */
export async function measureBackend(backend: BackendName, presets: string[], steps: number, profile: boolean, data: DataContext): Promise<BackendMeasurement> {
  let device: string;
  try {
    const report = await selectBackend(backend);
    device = report.attempts[report.attempts.length - 1].reason;
  } catch (err) {
    return { backend, skipped: (err as Error).message, cases: [] };
  }
  const cases: BackendMeasurement['cases'] = [];
  const failed: string[] = [];
  for (const presetName of presets) {
    const preset = getPreset(presetName);
    for (const step of ['simclr', 'supervised'] as const) {
      const { batchSize } = step === 'simclr' ? preset.pretrain : preset.scratch;
      try {
        const { stepMs, kernels } = await timeSteps(step, presetName, steps, profile, data);
        cases.push({ preset: presetName, step, backend, batchSize, stepMs, kernels });
      } catch (err) {
        // one case over a device limit leaves the others measurable
        if (!(err instanceof DeviceLimitError)) throw err;
        failed.push(`${presetName} ${step} batch ${batchSize}: not measured: ${err.message}`);
      }
    }
  }
  return { backend, device, cases, failed };
}

/**
 * Untimed steps before the timed ones: the first builds the ORT sessions and SIMD kernels, the
 * second still faults in fresh arena pages and runs JavaScript the JIT has not optimised yet.
 */
const WARM_UP_STEPS = 2;

/**
 * Median wall ms of `steps` training steps after the warm-up steps, through the real training
 * loop, and, when asked, the kernel profile of one more step of the same task.
 */
async function timeSteps(
  step: 'simclr' | 'supervised', presetName: string, steps: number, profile: boolean, data: DataContext,
): Promise<{ stepMs: number; kernels: BenchCase['kernels'] }> {
  const { batchSize, optimizer } = step === 'simclr' ? getPreset(presetName).pretrain : getPreset(presetName).scratch;
  const built = buildTask(step, presetName, data);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-bench-'));
  try {
    const rows = data.splits.trainPool.subarray(0, batchSize * (steps + WARM_UP_STEPS));
    const task: TrainingTask = { ...built.task, epochRows: () => rows, evaluate: () => ({ metrics: {} }) };
    const stepMs: number[] = [];
    let last = performance.now();
    await runTrainingLoop(task, {
      epochs: 1, batchSize, dropLast: true, optimizer, earlyStopping: { patience: 0, minDelta: 0 }, seed: 0,
    }, {
      runDir: scratch, resume: false, configHash: 'bench',
      hooks: { onStep: () => { const now = performance.now(); stepMs.push(now - last); last = now; } },
    });
    return { stepMs: median(stepMs.slice(WARM_UP_STEPS)), kernels: profile ? await profileStep(task, batchSize, data) : [] };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    built.dispose();
  }
}

/** PyTorch's cases with each case's median step over the rounds, and each round's step. */
function combineRounds(rounds: ReferenceRun[]): ReferenceRun | null {
  if (rounds.length === 0) return null;
  const cases = rounds[0].cases.map((first) => {
    const roundStepMs = rounds.map((r) => r.cases.find((c) => c.preset === first.preset && c.step === first.step)?.stepMs ?? first.stepMs);
    const stepMs = median(roundStepMs);
    return { ...first, stepMs, imagesPerSecond: (1000 * first.batchSize) / stepMs, roundStepMs };
  });
  return { label: rounds[0].label, cases };
}

/** The real training task of a preset's SimCLR or supervised step, and how to free its modules. */
export function buildTask(step: 'simclr' | 'supervised', presetName: string, data: DataContext): { task: TrainingTask; dispose: () => void } {
  const preset = getPreset(presetName);
  if (step === 'simclr') {
    const modules = makePretrainModules(preset.pretrain);
    return {
      task: makePretrainTask(preset.pretrain, data, modules),
      dispose: () => { modules.encoder.dispose(); modules.head.dispose(); modules.probe?.dispose(); },
    };
  }
  const encoder = makeEncoder(preset.scratch.encoder, new Rng(0));
  const classifier = makeLinearClassifier(encoder.featureDim, 10, new Rng(1));
  return {
    task: makeImageClassifierTask(preset.scratch, data, encoder, classifier, data.splits.trainPool),
    dispose: () => { encoder.dispose(); classifier.dispose(); },
  };
}

/** Kernel times of one forward + backward step (tf.profile), summed per kernel name. */
async function profileStep(task: TrainingTask, batchSize: number, data: DataContext): Promise<BenchCase['kernels']> {
  const rows = data.splits.trainPool.subarray(0, batchSize);
  const rng = new Rng(0);
  const variables = [...task.trainable.values()];
  const info = await tf.profile(() => {
    tf.tidy(() => {
      const { value } = tf.variableGrads(() => task.batchLoss(rows, rng), variables);
      value.dataSync();
    });
  });
  const perKernel = new Map<string, number>();
  const backend = tf.getBackend();
  for (const kernel of info.kernels) {
    // A custom-gradient op is profiled as a scope whose time includes its kernels': count those only.
    if (tf.getKernel(kernel.name, backend) === undefined) continue;
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    perKernel.set(kernel.name, (perKernel.get(kernel.name) ?? 0) + ms);
  }
  const total = [...perKernel.values()].reduce((a, b) => a + b, 0) || 1;
  return [...perKernel].map(([name, ms]) => ({ name, ms, share: ms / total })).sort((a, b) => b.ms - a.ms).slice(0, 8);
}

/** One step timed by the PyTorch reference script (bench/pytorch-step.py). */
export interface ReferenceCase {
  preset: string;
  step: 'simclr' | 'supervised';
  batchSize: number;
  imagesPerSecond: number;
  stepMs: number;
  /** each round's step, ms, when the reference took turns with the backends (see combineRounds) */
  roundStepMs?: number[];
}

export interface ReferenceRun {
  /** e.g. 'PyTorch 1.13.1' */
  label: string;
  cases: ReferenceCase[];
}

/**
 * Times the same steps in PyTorch with `python` (bench/pytorch-step.py), for docs/performance.md's ratio to
 * PyTorch; null with the reason when that Python has no torch. Runs after the tfjs cases, in the
 * same command, so both are measured under the same conditions.
 */
export function pytorchReference(python: string, presets: string[], steps: number, log: (line: string) => void): ReferenceRun | null {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    log(`PyTorch reference skipped: ${python} cannot import torch (on Debian: apt-get install python3-torch)`);
    return null;
  }
  const script = path.join(__dirname, '..', '..', 'bench', 'pytorch-step.py');
  const cases: ReferenceCase[] = [];
  for (const preset of presets) {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-torch-')), 'result.json');
    const run = spawnSync(python, [script, '--preset', preset, '--threads', String(os.cpus().length), '--steps', String(steps), '--json', out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bench/pytorch-step.py failed for ${preset}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
    log(run.stdout.trim());
    cases.push(...(JSON.parse(fs.readFileSync(out, 'utf8')) as { cases: ReferenceCase[] }).cases);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
  return { label: `PyTorch ${probe.stdout.trim()}`, cases };
}

/**
 * Markdown table of a benchmark: one row per preset and step, one column per backend, the speed-up
 * of the first backend over the last and, with a reference run, its images/s and how many times
 * longer the first backend's step takes than the reference's.
 */
export function benchTable(cases: BenchCase[], reference: ReferenceRun | null = null): string {
  const backends = [...new Set(cases.map((c) => c.backend))];
  const keys = [...new Set(cases.map((c) => `${c.preset}|${c.step}`))];
  const columns = ['preset', 'step', 'batch', ...backends.map((b) => `${b} (images/s)`)];
  if (backends.length > 1) columns.push(`${backends[0]} / ${backends[backends.length - 1]}`);
  if (reference) columns.push(`${reference.label} (images/s)`, `${backends[0]} step time / ${reference.label}'s`);
  const lines = [`| ${columns.join(' | ')} |`, `|${' --- |'.repeat(columns.length)}`];
  for (const key of keys) {
    const [preset, step] = key.split('|');
    const row = backends.map((b) => cases.find((c) => c.preset === preset && c.step === step && c.backend === b));
    const first = row[0];
    const last = row[row.length - 1];
    const cells = [preset, step, String(first?.batchSize ?? last?.batchSize ?? ''), ...row.map((c) => (c ? c.imagesPerSecond.toFixed(0) : '–'))];
    if (backends.length > 1) cells.push(first && last ? `${(first.imagesPerSecond / last.imagesPerSecond).toFixed(1)}x` : '–');
    if (reference) {
      const ref = reference.cases.find((c) => c.preset === preset && c.step === step);
      cells.push(ref ? ref.imagesPerSecond.toFixed(0) : '–', ref && first ? `${stepTimeRatio(first, ref).toFixed(1)}x` : '–');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * How many times longer the backend's step takes than the reference's. When both took turns in
 * the same rounds, the median over rounds of the two steps measured in one round: the machine's
 * load moves between rounds, and a ratio of medians can pair a quiet round of one with a busy
 * round of the other. Otherwise the ratio of the two medians.
 */
export function stepTimeRatio(backendCase: Pick<BenchCase, 'stepMs' | 'roundStepMs' | 'batchSize'>, reference: ReferenceCase): number {
  const [ours, theirs] = [backendCase.roundStepMs, reference.roundStepMs];
  if (theirs !== undefined && ours.length === theirs.length && ours.length > 0) return median(ours.map((ms, i) => ms / theirs[i]));
  return (backendCase.stepMs / backendCase.batchSize) / (reference.stepMs / reference.batchSize);
}

/** Each case's round medians, e.g. "onnx quick simclr 650 / 702 / 688; ...", then the reference's rounds. */
export function roundsSummary(cases: BenchCase[], reference: ReferenceRun | null = null): string {
  const rows = cases.map((c) => `${c.backend} ${c.preset} ${c.step} ${c.roundStepMs.map((ms) => ms.toFixed(0)).join(' / ')}`);
  for (const c of reference?.cases ?? []) {
    if (c.roundStepMs !== undefined) rows.push(`${reference?.label} ${c.preset} ${c.step} ${c.roundStepMs.map((ms) => ms.toFixed(0)).join(' / ')}`);
  }
  return rows.join('; ');
}

/** Markdown list of the largest kernels per backend for one preset and step. */
export function kernelBreakdown(cases: BenchCase[]): string {
  return cases.map((c) => `- ${c.backend}, ${c.preset} ${c.step}: ${c.kernels.slice(0, 5).map((k) => `${k.name} ${(100 * k.share).toFixed(0)}%`).join(', ')}`).join('\n');
}
