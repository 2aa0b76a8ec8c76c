/**
 * ArrayBuffer memory each kernel of the onnx backend allocates in a preset's real training
 * steps (the training loop: forward, loss, gradients, optimizer), from `process.memoryUsage().arrayBuffers`
 * before and after every kernel call. A kernel's own outputs come from recycled buffers, so what
 * shows is memory allocated behind its back: with TFJS_ONNX_ORT_CALLS=binding, above all
 * onnxruntime-node's copy of every output of a run, which the C API route does without (see
 * README, Performance).
 *
 *   npx tsx bench/arraybuffer-allocations.ts [--preset quick] [--steps 5]
 *
 * Prints MB per step and calls per step of the kernels that allocate, largest first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend/select';
import { parsePositiveInt } from '../lib/cli/options';
import { getPreset } from '../lib/config/presets';
import { loadCifar, makeSplits, resolveDataDir } from '../lib/data/index';
import { buildTask } from '../lib/experiments/bench';
import { runTrainingLoop, type TrainingTask } from '../lib/train/loop';
import { benchArgs } from './args';

const WARM_UP_STEPS = 2;

/** Wraps every kernel of `backendName` to add up the ArrayBuffer bytes that appear during its calls. */
function countAllocations(backendName: string): Map<string, { calls: number; bytes: number }> {
  const totals = new Map<string, { calls: number; bytes: number }>();
  for (const kernel of tf.getKernelsForBackend(backendName)) {
    const inner = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, backendName);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (params) => {
        const before = process.memoryUsage().arrayBuffers;
        const result = inner(params);
        const entry = totals.get(kernel.kernelName) ?? { calls: 0, bytes: 0 };
        entry.calls += 1;
        entry.bytes += Math.max(0, process.memoryUsage().arrayBuffers - before);
        totals.set(kernel.kernelName, entry);
        return result;
      },
    });
  }
  return totals;
}

async function main(): Promise<void> {
  const args = benchArgs(['--preset', '--steps']);
  const steps = parsePositiveInt(args.get('--steps') ?? '5', '--steps');
  const preset = getPreset(args.get('--preset') ?? 'quick');
  await selectBackend('onnx');
  const totals = countAllocations(tf.getBackend());
  const dataset = loadCifar(resolveDataDir('data'));
  const data = { dataset, splits: makeSplits(dataset, preset.data) };
  for (const name of ['supervised', 'simclr'] as const) {
    const built = buildTask(name, preset.name, data);
    const { batchSize, optimizer } = name === 'simclr' ? preset.pretrain : preset.scratch;
    const rows = data.splits.trainPool.subarray(0, batchSize * (WARM_UP_STEPS + steps));
    const task: TrainingTask = { ...built.task, epochRows: () => rows, evaluate: () => ({ metrics: {} }) };
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-allocations-'));
    let done = 0;
    try {
      await runTrainingLoop(task, {
        epochs: 1, batchSize, dropLast: true, optimizer, earlyStopping: { patience: 0, minDelta: 0 }, seed: 0,
      }, {
        runDir, resume: false, configHash: 'allocations',
        // ORT sessions, SIMD kernels and buffer pools settle in the first steps
        hooks: { onStep: () => { if (++done === WARM_UP_STEPS) totals.clear(); } },
      });
    } finally {
      fs.rmSync(runDir, { recursive: true, force: true });
      built.dispose();
    }
    const rowsOut = [...totals].filter(([, t]) => t.bytes / steps >= 2 ** 16).sort((a, b) => b[1].bytes - a[1].bytes);
    const all = rowsOut.reduce((sum, [, t]) => sum + t.bytes, 0);
    console.log(`${preset.name} ${name} step, batch ${batchSize}: ${(all / steps / 2 ** 20).toFixed(1)} MiB of ArrayBuffers per step`);
    for (const [kernel, t] of rowsOut.slice(0, 8)) {
      console.log(`  ${kernel.padEnd(28)} ${(t.bytes / steps / 2 ** 20).toFixed(1).padStart(7)} MiB/step  ${(t.calls / steps).toFixed(0).padStart(4)} calls/step`);
    }
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}).then(() => process.exit(0));
