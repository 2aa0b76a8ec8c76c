/**
 * Images per second of one supervised training step of a width-16 CIFAR ResNet (3 stages x 2
 * basic blocks, conv-bn-relu, global average pool, dense, softmax cross-entropy, SGD) on each
 * tfjs backend, measured in one process so the ratios hold on a shared machine; then the per-kernel
 * time of the 'onnx' backend.
 *
 *   npx tsx bench/conv-step.ts [--backends onnx,wasm,cpu] [--batch 128] [--steps 5] [--threads N]
 *
 * The network is in resnet-step.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../lib/backend/loaders';
import { kernelTimings, resetKernelTimings } from '../lib/backend/onnx/timing';
import { registerOnnxBackend } from '../lib/backend/onnx/register';
import type { BackendName } from '../lib/config/types';
import { makeTrainingStep } from './resnet-step';

interface BenchOptions {
  backends: BackendName[];
  /** images per step */
  batch: number;
  /** timed steps per backend (after two warm-up steps) */
  steps: number;
  /** ORT intra-op threads (default: all cores) */
  threads?: number;
}

/** Milliseconds per training step on the current backend. */
function timeSteps(options: BenchOptions): number {
  const { step, dispose } = makeTrainingStep(options.batch);
  step();
  step();
  const tensorsBefore = tf.memory().numTensors;
  resetKernelTimings();
  const start = performance.now();
  for (let i = 0; i < options.steps; i++) step();
  const ms = (performance.now() - start) / options.steps;
  const leaked = tf.memory().numTensors - tensorsBefore;
  dispose();
  if (leaked !== 0) throw new Error(`${leaked} tensors leaked over ${options.steps} steps`);
  return ms;
}

function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = { backends: ['onnx', 'wasm', 'cpu'], batch: 128, steps: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--backends') options.backends = value.split(',') as BackendName[];
    else if (flag === '--batch') options.batch = Number(value);
    else if (flag === '--steps') options.steps = Number(value);
    else if (flag === '--threads') options.threads = Number(value);
    else throw new Error(`unknown option ${flag} (expected --backends, --batch, --steps, --threads)`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.threads !== undefined) registerOnnxBackend({ threads: options.threads });
  const rates = new Map<BackendName, number>();
  for (const name of options.backends) {
    try {
      await activateBackend(name);
    } catch (error) {
      console.log(`${name.padEnd(5)} skipped: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    // The cpu backend is slow: two timed steps are plenty.
    const ms = timeSteps({ ...options, steps: name === 'cpu' ? Math.min(2, options.steps) : options.steps });
    rates.set(name, (options.batch / ms) * 1000);
    console.log(`${name.padEnd(5)} ${ms.toFixed(0).padStart(6)} ms/step  ${rates.get(name)?.toFixed(1).padStart(6)} images/s`);
    if (name === 'onnx') printBreakdown(ms * options.steps);
  }
  const onnx = rates.get('onnx');
  if (onnx !== undefined) {
    for (const [name, rate] of rates) if (name !== 'onnx') console.log(`onnx / ${name}: ${(onnx / rate).toFixed(2)}x`);
  }
}

/** The onnx backend's kernels by total time over the timed steps. */
function printBreakdown(totalMs: number): void {
  console.log('  kernel                      calls      ms   share');
  for (const t of kernelTimings().slice(0, 20)) {
    const share = ((100 * t.milliseconds) / totalMs).toFixed(1);
    console.log(`  ${t.kernelName.padEnd(26)} ${String(t.calls).padStart(6)} ${t.milliseconds.toFixed(0).padStart(7)} ${share.padStart(6)}%`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
