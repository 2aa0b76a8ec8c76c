/**
 * The fused training-mode batch norm (+ ReLU) kernels of src/ops/fused-batch-norm.ts: batch
 * statistics in one pass (sums shifted by the first row, so the variance does not cancel), the
 * output in a second; backward, the two per-channel gradient sums in one pass and dx in a second.
 * SIMD in the arena, else JavaScript loops; per-channel totals are always added in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type BatchNormTrainAttrs } from '../ops/fused-batch-norm';
import type { OnnxBackend } from '../backend';
import { SCRATCH_SLOT_FLOATS, type WasmArena } from '../simd/arena';
import type { OnnxKernel, OnnxKernelArgs } from './kernel-utils';

/** Elements summed in float32 per SIMD call before the float64 total takes over. */
const FLOAT32_BLOCK_ELEMENTS = 4096;

/** Scratch slots of the per-channel vectors in the arena. */
export const SLOT = { center: 0, a: 1, b: 2, k1: 3, k2: 4, k3: 5, sum: 6, sq: 7 } as const;

interface Geometry {
  rows: number;
  channels: number;
}

function geometry(x: tf.TensorInfo, kernelName: string, ...others: tf.TensorInfo[]): Geometry {
  if ([x, ...others].some((t) => t.dtype !== 'float32')) throw new Error(`${kernelName} takes float32 tensors`);
  const channels = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || channels < 1) throw new Error(`${kernelName} needs a [..., C] input with C >= 1, got [${x.shape.join(', ')}]`);
  return { rows: tf.util.sizeFromShape(x.shape) / channels, channels };
}

/** The SIMD arena when every array lies in it and the per-channel vectors fit its scratch slots. */
function simdArena(backend: OnnxBackend, channels: number, ...arrays: Float32Array[]): WasmArena | undefined {
  const arena = backend.arena;
  return arena !== undefined && channels <= SCRATCH_SLOT_FLOATS && arrays.every((a) => arena.contains(a)) ? arena : undefined;
}

/** Floats per chunk of a row job's output passes (a chunk is what one thread claims at a time). */
const CHUNK_ELEMENTS = 16384;
/** Float32 blocks per chunk of a row job's sums. */
const BLOCKS_PER_CHUNK = 4;

/** Rows per chunk of a pass that writes one output row per input row. */
const outputChunkRows = (channels: number): number => Math.max(1, Math.floor(CHUNK_ELEMENTS / channels));

/**
 * Per-channel sums of a sums kernel (channelSums or gradientSums) over blocks of rows, each block
 * summed in float32 into a slot of its own, then the blocks added in float64 in order: the same
 * totals whichever thread summed which block. `args` are the kernel's, with placeholders for the
 * two sum pointers at `sumArgs`; undefined when the arena has no room for the slots.
 */
function blockSums(
  backend: OnnxBackend, arena: WasmArena, { rows, channels }: Geometry,
  kernel: 'channelSums' | 'gradientSums.plain' | 'gradientSums.relu', args: number[], rowArgs: number[], sumArgs: [number, number],
): [Float64Array, Float64Array] | undefined {
  const blockRows = Math.max(1, Math.floor(FLOAT32_BLOCK_ELEMENTS / channels));
  const blocks = Math.ceil(rows / blockRows);
  const sum = arena.take(blocks * channels);
  const sq = sum && arena.take(blocks * channels);
  if (sum === undefined || sq === undefined) {
    if (sum !== undefined) arena.recycle(sum);
    return undefined;
  }
  try {
    const call = args.slice();
    [call[sumArgs[0]], call[sumArgs[1]]] = [sum.byteOffset, sq.byteOffset];
    backend.runRows({ kernel, channels, rows, args: call, rowArgs, slotArgs: sumArgs, chunkRows: blockRows * BLOCKS_PER_CHUNK, blockRows });
    const totals: [Float64Array, Float64Array] = [new Float64Array(channels), new Float64Array(channels)];
    for (let block = 0; block < blocks; block++) {
      for (let c = 0, i = block * channels; c < channels; c++, i++) {
        totals[0][c] += sum[i];
        totals[1][c] += sq[i];
      }
    }
    return totals;
  } finally {
    arena.recycle(sum);
    arena.recycle(sq);
  }
}

/** Batch mean and biased variance per channel. */
function moments(backend: OnnxBackend, xs: Float32Array, geo: Geometry): { mean: Float64Array; variance: Float64Array } {
  const { rows, channels } = geo;
  const center = xs.subarray(0, channels); // one sample per channel: a shift within a few std of the mean
  const arena = simdArena(backend, channels, xs);
  let sums = arena && blockSums(backend, arena, geo, 'channelSums',
    [xs.byteOffset, arena.scratch(SLOT.center, center), 0, 0, rows, channels], [0], [2, 3]);
  if (sums === undefined) {
    sums = [new Float64Array(channels), new Float64Array(channels)];
    for (let i = 0; i < xs.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const d = xs[i + c] - center[c];
        sums[0][c] += d;
        sums[1][c] += d * d;
      }
    }
  }
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const shifted = sums[0][c] / rows;
    mean[c] = center[c] + shifted;
    variance[c] = Math.max(0, sums[1][c] / rows - shifted * shifted);
  }
  return { mean, variance };
}

/** a = gamma / sqrt(variance + eps) and b = beta - mean * a, per channel. */
function scaleShift(gamma: Float32Array, beta: Float32Array, mean: ArrayLike<number>, variance: ArrayLike<number>, epsilon: number) {
  const channels = gamma.length;
  const invStd = new Float64Array(channels);
  const a = new Float64Array(channels);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
    a[c] = gamma[c] * invStd[c];
    b[c] = beta[c] - mean[c] * a[c];
  }
  return { invStd, a, b };
}

function forward({ inputs, backend, attrs }: OnnxKernelArgs<BatchNormTrainAttrs>): tf.TensorInfo[] {
  const { x, gamma, beta } = inputs;
  const geo = geometry(x, BATCH_NORM_TRAIN, gamma, beta);
  const { rows, channels } = geo;
  const xs = backend.float32(x);
  const { mean, variance } = moments(backend, xs, geo);
  const { a, b } = scaleShift(backend.float32(gamma), backend.float32(beta), mean, variance, attrs.epsilon);
  const out = backend.output(x.shape);
  const arena = simdArena(backend, channels, xs, out);
  if (arena !== undefined) {
    backend.runRows({
      kernel: attrs.relu ? 'affine.relu' : 'affine.plain', channels, rows, chunkRows: outputChunkRows(channels),
      args: [xs.byteOffset, arena.scratch(SLOT.a, a), arena.scratch(SLOT.b, b), out.byteOffset, rows, channels], rowArgs: [0, 3],
    });
  } else {
    for (let i = 0; i < xs.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const z = xs[i + c] * a[c] + b[c];
        out[i + c] = attrs.relu && z < 0 ? 0 : z; // NaN stays NaN, as in the SIMD max
      }
    }
  }
  return [
    backend.makeTensorInfo([...x.shape], 'float32', out),
    backend.makeTensorInfo([channels], 'float32', Float32Array.from(mean)),
    backend.makeTensorInfo([channels], 'float32', Float32Array.from(variance)),
  ];
}

/**
 * With z = x * a + b, y = relu(z) (or z) and g = dL/dz: dbeta = sum g, dgamma = invStd * sum
 * g (x - mean), and dx = a g - a (dbeta + xhat dgamma) / N, written as dx = g k1 + x k2 + k3.
 */
function backward({ inputs, backend, attrs }: OnnxKernelArgs<BatchNormTrainAttrs>): tf.TensorInfo[] {
  const { x, dy, gamma, beta, mean, variance } = inputs;
  const geo = geometry(x, BATCH_NORM_TRAIN_GRAD, dy, gamma, beta, mean, variance);
  const { rows, channels } = geo;
  const [xs, dys, means] = [backend.float32(x), backend.float32(dy), backend.float32(mean)];
  const { invStd, a, b } = scaleShift(backend.float32(gamma), backend.float32(beta), means, backend.float32(variance), attrs.epsilon);
  const mode = attrs.relu ? 'relu' : 'plain';
  const out = backend.output(x.shape);
  const arena = simdArena(backend, channels, xs, dys, out);

  let sums = arena && blockSums(backend, arena, geo, `gradientSums.${mode}`,
    [xs.byteOffset, dys.byteOffset, arena.scratch(SLOT.a, a), arena.scratch(SLOT.b, b), arena.scratch(SLOT.center, means), 0, 0, rows, channels],
    [0, 1], [5, 6]);
  if (sums === undefined) {
    sums = [new Float64Array(channels), new Float64Array(channels)];
    for (let i = 0; i < xs.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const g = attrs.relu && !(xs[i + c] * a[c] + b[c] > 0) ? 0 : dys[i + c];
        sums[0][c] += g;
        sums[1][c] += g * (xs[i + c] - means[c]);
      }
    }
  }

  const dBeta = sums[0];
  const dGamma = new Float64Array(channels);
  const [k1, k2, k3] = [new Float64Array(channels), new Float64Array(channels), new Float64Array(channels)];
  for (let c = 0; c < channels; c++) {
    dGamma[c] = invStd[c] * sums[1][c];
    k1[c] = a[c];
    k2[c] = (-a[c] * invStd[c] * dGamma[c]) / rows;
    k3[c] = (-a[c] * dBeta[c]) / rows - k2[c] * means[c];
  }

  if (arena !== undefined) {
    backend.runRows({
      kernel: `gradientInput.${mode}`, channels, rows, chunkRows: outputChunkRows(channels),
      args: [
        xs.byteOffset, dys.byteOffset, arena.scratch(SLOT.a, a), arena.scratch(SLOT.b, b),
        arena.scratch(SLOT.k1, k1), arena.scratch(SLOT.k2, k2), arena.scratch(SLOT.k3, k3), out.byteOffset, rows, channels,
      ],
      rowArgs: [0, 1, 7],
    });
  } else {
    for (let i = 0; i < xs.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const g = attrs.relu && !(xs[i + c] * a[c] + b[c] > 0) ? 0 : dys[i + c];
        out[i + c] = g * k1[c] + xs[i + c] * k2[c] + k3[c];
      }
    }
  }
  return [
    backend.makeTensorInfo([...x.shape], 'float32', out),
    backend.makeTensorInfo([channels], 'float32', Float32Array.from(dGamma)),
    backend.makeTensorInfo([channels], 'float32', Float32Array.from(dBeta)),
  ];
}

const asKernel = (f: (args: OnnxKernelArgs<BatchNormTrainAttrs>) => tf.TensorInfo[]): tf.KernelFunc =>
  (params) => f(params as unknown as OnnxKernelArgs<BatchNormTrainAttrs>);

/** Kernels with no cpu counterpart: registered for this backend only. */
export const batchNormTrainKernels: OnnxKernel[] = [
  { kernelName: BATCH_NORM_TRAIN, kernelFunc: asKernel(forward) },
  { kernelName: BATCH_NORM_TRAIN_GRAD, kernelFunc: asKernel(backward) },
];
