/**
 * Images per second of one supervised training step of a width-16 CIFAR ResNet (3 stages x 2
 * basic blocks, conv-bn-relu, global average pool, dense, softmax cross-entropy, SGD; see
 * resnet-step.ts) on each tfjs backend, then the per-kernel time of the 'onnx' backend.
 *
 *   npx tsx bench/conv-step.ts [--backends onnx,wasm,cpu] [--batch 128] [--rounds 3] [--steps 3] [--threads N]
 *
 * Each measurement runs in a fresh process (as a training run would: one backend per process;
 * in one process the backends disturb each other's caches and garbage collection). On a shared
 * machine the load drifts, so the fast backends take turns: `rounds` times, one process each,
 * timing `steps` steps after two warm-up steps; each reports the median over all its steps. The
 * cpu backend, hundreds of times slower, is timed on one step at the end.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../lib/backend/loaders';
import { registerOnnxBackend, kernelTimings, resetKernelTimings, type KernelTiming } from 'tfjs-backend-onnx';
import type { BackendName } from '../lib/config/types';
import { makeTrainingStep } from './resnet-step';
import { median } from '../lib/util/median';

interface BenchOptions {
  backends: BackendName[];
  /** images per step */
  batch: number;
  /** processes per fast backend, taking turns */
  rounds: number;
  /** timed steps per process, after two warm-up steps */
  steps: number;
  /** ORT threads per kernel (default: cores - 1) */
  threads?: number;
}

/** What one measuring process reports. */
interface Measurement {
  backend: BackendName;
  /** milliseconds of each timed step */
  times: number[];
  /** the onnx backend's kernels over the timed steps */
  kernels: KernelTiming[];
}

const CHILD_FLAG = '--measure';

/** In a child process: time `steps` steps of one backend and print the Measurement as JSON. */
async function measure(backend: BackendName, options: BenchOptions, warmUp: number): Promise<void> {
  if (options.threads !== undefined) registerOnnxBackend({ threads: options.threads });
  await activateBackend(backend);
  const { step, dispose } = makeTrainingStep(options.batch);
  for (let i = 0; i < warmUp; i++) step();
  const tensorsBefore = tf.memory().numTensors;
  resetKernelTimings();
  const times: number[] = [];
  for (let i = 0; i < options.steps; i++) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) throw new Error(`${backend}: ${leaked} tensors leaked over ${options.steps} steps`);
  const measurement: Measurement = { backend, times, kernels: kernelTimings() };
  dispose();
  console.log(JSON.stringify(measurement));
}

/** Runs `measure` in a fresh process; undefined (with the reason printed) when it fails. */
function measureInChild(backend: BackendName, options: BenchOptions): Measurement | undefined {
  const args = [CHILD_FLAG, backend, '--batch', String(options.batch), '--steps', String(options.steps)];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || line === undefined) {
    const reason = (child.stderr || child.stdout).trim().split('\n').filter((l) => !l.startsWith('npm warn')).slice(-1)[0];
    console.log(`${backend.padEnd(5)} skipped: ${reason ?? `exit ${child.status}`}`);
    return undefined;
  }
  return JSON.parse(line) as Measurement;
}


function report(backend: BackendName, times: number[], batch: number): void {
  const ms = median(times);
  const spread = `${Math.min(...times).toFixed(0)}-${Math.max(...times).toFixed(0)}`;
  console.log(`${backend.padEnd(5)} ${ms.toFixed(0).padStart(7)} ms/step (${spread.padStart(13)}, n=${times.length})  ${((batch / ms) * 1000).toFixed(1).padStart(6)} images/s`);
}

/** The onnx backend's kernels by total time over its timed steps. */
function printBreakdown(measurements: Measurement[]): void {
  const totals = new Map<string, KernelTiming>();
  for (const m of measurements) {
    for (const k of m.kernels) {
      const t = totals.get(k.kernelName) ?? { kernelName: k.kernelName, calls: 0, milliseconds: 0 };
      t.calls += k.calls;
      t.milliseconds += k.milliseconds;
      totals.set(k.kernelName, t);
    }
  }
  const stepMs = measurements.flatMap((m) => m.times).reduce((a, b) => a + b, 0);
  const timings = [...totals.values()].sort((a, b) => b.milliseconds - a.milliseconds);
  const kernelMs = timings.reduce((sum, t) => sum + t.milliseconds, 0);
  console.log(`onnx kernels take ${((100 * kernelMs) / stepMs).toFixed(0)}% of its steps (the rest: tfjs bookkeeping, garbage collection)`);
  console.log('  kernel                      calls      ms   share');
  for (const t of timings.slice(0, 15)) {
    const share = ((100 * t.milliseconds) / stepMs).toFixed(1);
    console.log(`  ${t.kernelName.padEnd(26)} ${String(t.calls).padStart(6)} ${t.milliseconds.toFixed(0).padStart(7)} ${share.padStart(6)}%`);
  }
}

function parseArgs(argv: string[]): { options: BenchOptions; child?: BackendName } {
  const options: BenchOptions = { backends: ['onnx', 'wasm', 'cpu'], batch: 128, rounds: 3, steps: 3 };
  let child: BackendName | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--backends') options.backends = value.split(',') as BackendName[];
    else if (flag === '--batch') options.batch = Number(value);
    else if (flag === '--rounds') options.rounds = Number(value);
    else if (flag === '--steps') options.steps = Number(value);
    else if (flag === '--threads') options.threads = Number(value);
    else if (flag === CHILD_FLAG) child = value as BackendName;
    else throw new Error(`unknown option ${flag} (expected --backends, --batch, --rounds, --steps, --threads)`);
  }
  return { options, child };
}

async function main(): Promise<void> {
  const { options, child } = parseArgs(process.argv.slice(2));
  if (child !== undefined) {
    // The cpu backend is timed on its first step: it takes minutes, compiling milliseconds.
    await measure(child, child === 'cpu' ? { ...options, steps: 1 } : options, child === 'cpu' ? 0 : 2);
    return;
  }
  const fast = options.backends.filter((name) => name !== 'cpu');
  const results = new Map<BackendName, Measurement[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const backend of fast) {
      const m = measureInChild(backend, options);
      if (m !== undefined) results.set(backend, [...(results.get(backend) ?? []), m]);
    }
  }
  console.log(`batch ${options.batch}; median over ${options.rounds} processes x ${options.steps} steps per backend (cpu: 1 step)`);
  for (const [backend, ms] of results) report(backend, ms.flatMap((m) => m.times), options.batch);
  const onnx = results.get('onnx');
  if (onnx !== undefined) printBreakdown(onnx);
  if (options.backends.includes('cpu')) {
    const cpu = measureInChild('cpu', options);
    if (cpu !== undefined) {
      results.set('cpu', [cpu]);
      report('cpu', cpu.times, options.batch);
    }
  }
  if (onnx === undefined) return;
  const onnxMs = median(onnx.flatMap((m) => m.times));
  for (const [backend, ms] of results) {
    if (backend !== 'onnx') console.log(`onnx / ${backend}: ${(median(ms.flatMap((m) => m.times)) / onnxMs).toFixed(2)}x images/s`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
