/**
 * Times one 3x3 'same' convolution (64 -> 64 channels on [64, 32, 32, 64]) forward and both
 * gradients, on wasm with the kernels of wasm-gradients.ts, on wasm's own Conv2DBackpropInput, and
 * on the cpu backend. The cpu backend's filter gradient takes minutes at batch 64, so cpu runs a
 * smaller batch and its times are scaled up (all three costs are linear in the batch). Calls over
 * a second are timed once.
 *
 *   npx tsx lib/backend/bench-conv.ts [--batch 64] [--cpu-batch 4] [--repeats 3]
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './select';
import { installWasmTrainingKernels, uninstallWasmTrainingKernels } from './wasm-gradients';

export interface ConvBenchOptions {
  /** images per batch */
  batch: number;
  /** images per batch on the cpu backend; its times are scaled by batch / cpuBatch */
  cpuBatch: number;
  /** image height and width, pixels */
  size: number;
  /** input and output channels */
  channels: number;
  /** timed runs per measurement (after one warm-up run) */
  repeats: number;
}

export interface ConvTiming {
  label: string;
  /** milliseconds per call at `batch`; null where not measured */
  forwardMs: number | null;
  inputGradMs: number;
  filterGradMs: number | null;
}

export const DEFAULT_CONV_BENCH: ConvBenchOptions = { batch: 64, cpuBatch: 4, size: 32, channels: 64, repeats: 3 };

/** Times forward, input gradient and filter gradient kernels on wasm (new and own dx) and cpu. */
export async function benchConv(options: ConvBenchOptions): Promise<ConvTiming[]> {
  await selectBackend('wasm');
  installWasmTrainingKernels();
  const wasm = timeConv('wasm, wasm-gradients.ts kernels', options, options.batch, true);
  uninstallWasmTrainingKernels();
  const own = timeConv("wasm, wasm's own Conv2DBackpropInput", options, options.batch, false);
  installWasmTrainingKernels();
  await selectBackend('cpu');
  const cpu = timeConv(`cpu (batch ${options.cpuBatch}, times x${options.batch / options.cpuBatch})`, options, options.cpuBatch, true);
  return [wasm, own, cpu];
}

/** Times the three kernels on the current backend at `batch`, scaled to options.batch. */
function timeConv(label: string, options: ConvBenchOptions, batch: number, withFilterGrad: boolean): ConvTiming {
  const { size, channels, repeats } = options;
  const scale = options.batch / batch;
  const x = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const filter = tf.randomNormal([3, 3, channels, channels], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 3) as tf.Tensor4D;
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
  const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () =>
    tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const timing: ConvTiming = {
    label,
    forwardMs: withFilterGrad ? scale * msPerCall(kernel(tf.Conv2D, { x, filter }, { ...conv, dilations: 1 }), repeats) : null,
    inputGradMs: scale * msPerCall(kernel(tf.Conv2DBackpropInput, { dy, filter }, { ...conv, inputShape: x.shape }), repeats),
    filterGradMs: withFilterGrad ? scale * msPerCall(kernel(tf.Conv2DBackpropFilter, { x, dy }, { ...conv, filterShape: filter.shape }), repeats) : null,
  };
  tf.dispose([x, filter, dy]);
  return timing;
}

/** Mean ms of `repeats` calls after a warm-up call; a call over a second is timed once, warm-up included. */
function msPerCall(run: () => tf.Tensor, repeats: number): number {
  const once = () => {
    const start = performance.now();
    const out = run();
    out.dataSync(); // waits for the result on any backend
    out.dispose();
    return performance.now() - start;
  };
  const first = once();
  if (first > 1000) return first;
  let total = 0;
  for (let i = 0; i < repeats; i++) total += once();
  return total / repeats;
}

/** The timings as a table, with the cpu / wasm ratio per column. */
export function formatConvTimings(timings: ConvTiming[], options: ConvBenchOptions): string {
  const ms = (v: number | null) => (v === null ? '-' : v.toFixed(0)).padStart(10);
  const total = (t: ConvTiming) => (t.forwardMs === null || t.filterGradMs === null ? null : t.forwardMs + t.inputGradMs + t.filterGradMs);
  const { batch, size, channels } = options;
  const lines = [
    `${channels}->${channels} 3x3 'same' conv on [${batch}, ${size}, ${size}, ${channels}], ms per call`,
    `${'backend'.padEnd(42)}${'forward'.padStart(10)}${'dx'.padStart(10)}${'dW'.padStart(10)}${'total'.padStart(10)}`,
    ...timings.map((t) => `${t.label.padEnd(42)}${ms(t.forwardMs)}${ms(t.inputGradMs)}${ms(t.filterGradMs)}${ms(total(t))}`),
  ];
  const [wasm, own, cpu] = timings;
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '-' : `${(a / b).toFixed(1)}x`).padStart(10);
  lines.push(`${'cpu / wasm (these kernels)'.padEnd(42)}${ratio(cpu.forwardMs, wasm.forwardMs)}${ratio(cpu.inputGradMs, wasm.inputGradMs)}${ratio(cpu.filterGradMs, wasm.filterGradMs)}${ratio(total(cpu), total(wasm))}`);
  lines.push(`${"wasm own dx / these kernels' dx".padEnd(42)}${''.padStart(10)}${ratio(own.inputGradMs, wasm.inputGradMs)}`);
  return lines.join('\n');
}

function parseArgs(argv: string[]): ConvBenchOptions {
  const options = { ...DEFAULT_CONV_BENCH };
  const flags: Record<string, keyof ConvBenchOptions> = { '--batch': 'batch', '--cpu-batch': 'cpuBatch', '--repeats': 'repeats' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 1) {
      throw new Error(`usage: bench-conv.ts [--batch N] [--cpu-batch N] [--repeats N] (got '${argv[i]} ${argv[i + 1] ?? ''}')`);
    }
    options[key] = value;
  }
  return options;
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  benchConv(options)
    .then((timings) => console.log(formatConvTimings(timings, options)))
    .catch((error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    });
}
