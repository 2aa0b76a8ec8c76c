/**
 * What one of the onnx backend's switchable routes buys: the quick preset's real supervised and
 * SimCLR training steps (forward, loss, gradients; the values of every gradient read) with the
 * route on and off, taking turns step by step in one process so that both see the same load.
 *
 *   npx tsx bench/paired-steps.ts [--switch background|row-thread|phase-by-phase|phase-graph|c-api] [--preset quick] [--pairs 20]
 *
 * background: filter gradients handed to the background thread (parallel/background.ts), or all
 * on the main thread. row-thread: batch norm's row passes shared with the row thread
 * (parallel/row-threads.ts), or all on the main thread. phase-by-phase: a strided convolution's input gradient one output phase at
 * a time, or all phases in one convolution ('polyphase'; kernels/conv.ts). phase-graph: phase by
 * phase, every phase's convolution in one graph that reorders dy into NCHWc blocks once, or each
 * phase in its own graph (OnnxBackend.phasesInOneGraph). c-api: runs through
 * ONNX Runtime's C API, outputs written in place, or through onnxruntime-node's binding, which
 * copies them (c-api.ts). The switches change no value, only where and how the work runs.
 *
 * Prints each case's median step and the median of the per-pair ratios (on / off).
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxBackend } from 'tfjs-backend-onnx';
import { selectBackend } from '../lib/backend/select';
import { parsePositiveInt } from '../lib/cli/options';
import { getPreset } from '../lib/config/presets';
import { loadCifar, makeSplits, resolveDataDir } from '../lib/data/index';
import { buildTask } from '../lib/experiments/bench';
import { median } from '../lib/util/median';
import { Rng } from '../lib/util/random';
import { benchArgs } from './args';

/** Turns the named route on or off in `backend`. */
function switcher(name: string, backend: OnnxBackend): (on: boolean) => void {
  if (name === 'background') {
    const background = backend.background;
    if (background === undefined) throw new Error('the onnx backend has no background thread here (one core, or TFJS_ONNX_BACKGROUND=0)');
    return (on) => { background.enabled = on; };
  }
  if (name === 'row-thread') {
    const rows = backend.rows;
    if (rows === undefined) throw new Error('the onnx backend has no row thread here (one core, no shared SIMD arena, or TFJS_ONNX_ROW_THREAD=0)');
    return (on) => { rows.enabled = on; };
  }
  if (name === 'phase-by-phase') return (on) => { backend.stridedInputGradient = on ? 'phase-by-phase' : 'polyphase'; };
  if (name === 'phase-graph') return (on) => { backend.phasesInOneGraph = on; };
  if (name === 'c-api') {
    if (backend.ort.cApiUnavailable !== undefined) throw new Error(`ONNX Runtime's C API is not in use here: ${backend.ort.cApiUnavailable}`);
    return (on) => { backend.ort.calls = on ? 'c-api' : 'binding'; };
  }
  throw new Error(`--switch ${name}: give background, row-thread, phase-by-phase, phase-graph or c-api`);
}

async function main(): Promise<void> {
  const args = benchArgs(['--switch', '--preset', '--pairs']);
  const pairs = parsePositiveInt(args.get('--pairs') ?? '20', '--pairs');
  const preset = getPreset(args.get('--preset') ?? 'quick');
  const route = args.get('--switch') ?? 'background';
  await selectBackend('onnx');
  const turn = switcher(route, tf.backend() as OnnxBackend);
  const dataset = loadCifar(resolveDataDir('data'));
  const data = { dataset, splits: makeSplits(dataset, preset.data) };
  console.log(`${route} on and off, preset ${preset.name}, ${pairs} pairs of steps, ms`);
  for (const name of ['supervised', 'simclr'] as const) {
    const { task, dispose } = buildTask(name, preset.name, data);
    const { batchSize } = name === 'simclr' ? preset.pretrain : preset.scratch;
    const rows = data.splits.trainPool.subarray(0, batchSize);
    const variables = [...task.trainable.values()];
    const rng = new Rng(0);
    const step = (on: boolean): number => {
      turn(on);
      const start = performance.now();
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => task.batchLoss(rows, rng), variables);
        value.dataSync();
        for (const grad of Object.values(grads)) grad.dataSync();
      });
      return performance.now() - start;
    };
    for (let i = 0; i < 3; i++) [true, false].forEach(step);
    const [on, off] = [[] as number[], [] as number[]];
    for (let p = 0; p < pairs; p++) {
      // alternate which goes first, so neither always follows the other
      if (p % 2 === 0) { on.push(step(true)); off.push(step(false)); } else { off.push(step(false)); on.push(step(true)); }
    }
    const ratio = median(on.map((t, p) => t / off[p]));
    console.log(`${name.padEnd(10)} on ${median(on).toFixed(1)}, off ${median(off).toFixed(1)}, median ratio ${ratio.toFixed(3)}`);
    dispose();
  }
  turn(true);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}).then(() => process.exit(0));
