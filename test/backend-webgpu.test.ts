/**
 * The webgpu backend (lib/backend/webgpu): adapter checks and buffer limits everywhere; where an
 * adapter exists (in CI: Mesa's lavapipe, a software one), the smoke ResNet's gradients and one
 * SimCLR and one supervised step against the cpu backend, no kernel on the CPU, flat memory.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, selectBackend } from '../lib/backend/select';
import { bufferLimitError } from '../lib/backend/webgpu/buffer-limits';
import { isSoftwareAdapter } from '../lib/backend/webgpu/adapter';
import type { WebgpuBackendInternals } from '../lib/backend/webgpu/internals';
import { webgpuAdapter } from '../lib/backend/webgpu/register';
import { getPreset } from '../lib/config/presets';
import { buildTask } from '../lib/experiments/bench';
import { makeEncoder } from '../lib/models/make-encoder';
import { makeOptimizer } from '../lib/optim/optimizer';
import type { TrainingTask } from '../lib/train/loop';
import { Rng } from '../lib/util/random';
import { assertCloseToCpu } from './helpers/close';
import { toyContext } from './helpers/toy-data';
import { webgpuSkipReason } from './helpers/webgpu';

/** webgpu against the cpu backend, as before: a reference of all zeros (or below 1e-6) compares against 1e-6 */
const WEBGPU = { backend: 'webgpu', zeroScaleFloor: 1e-6 };

/**
 * max |webgpu − cpu| allowed, as a fraction of max |cpu| of each compared array. On lavapipe the
 * features and gradients of the smoke ResNet differ by at most 8e-6 of that; after one training
 * step the batch-norm shifts (beta) by up to 1.9e-3: they start at 0 and take one learning-rate
 * times a gradient that sums thousands of small terms, in another order on each backend.
 */
const GRADIENT_TOLERANCE = 1e-4;
const STEP_TOLERANCE = 1e-2;

const data = toyContext({ trainPerClass: 12, testPerClass: 2, validationPerClass: 2 });

describe('webgpu without a device', () => {
  test('selection tries webgpu after tensorflow and before onnx', () => {
    assert.deepEqual(BACKEND_ORDER.slice(0, 3), ['tensorflow', 'webgpu', 'onnx']);
  });

  test('a buffer over maxBufferSize or, for storage, maxStorageBufferBindingSize is refused naming the limit', () => {
    const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 };
    const STORAGE = 0x80;
    assert.equal(bufferLimitError(2 ** 27, STORAGE, limits), null);
    assert.match(bufferLimitError(2 ** 27 + 4, STORAGE, limits) ?? '', /maxStorageBufferBindingSize of 128\.0 MiB \(134217728 bytes\)/);
    assert.equal(bufferLimitError(2 ** 27 + 4, 0x01 | 0x08, limits), null, 'a staging buffer is not bound');
    assert.match(bufferLimitError(2 ** 30 + 4, 0x01, limits) ?? '', /maxBufferSize of 1\.00 GiB/);
  });

  test('software adapters are told apart from hardware ones', () => {
    const info = (description: string, architecture = '', isFallbackAdapter = false) => ({ vendor: 'x', architecture, device: '', description, isFallbackAdapter });
    assert.ok(isSoftwareAdapter(info('llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', 'software')));
    assert.ok(isSoftwareAdapter(info('SwiftShader Device (Subzero)')));
    assert.ok(isSoftwareAdapter(info('anything', '', true)));
    assert.ok(!isSoftwareAdapter(info('NVIDIA GeForce RTX 4070', 'ada-lovelace')));
  });

  test('automatic selection never ends on a software adapter, and says why', async () => {
    const adapter = await webgpuAdapter();
    const report = await selectBackend();
    const attempt = report.attempts.find((a) => a.name === 'webgpu');
    if (report.chosen === 'tensorflow') return;
    assert.ok(attempt !== undefined, 'webgpu was tried');
    if ('unavailable' in adapter) {
      assert.equal(attempt.ok, false);
      assert.match(attempt.reason, /webgpu|WebGPU|Dawn/);
    } else if (adapter.software) {
      assert.equal(attempt.ok, false);
      assert.match(attempt.reason, /only a software adapter.*not chosen automatically/);
    } else {
      assert.equal(report.chosen, 'webgpu');
    }
  });
});

describe('webgpu on an adapter', () => {
  let skip: string | null = null;
  before(async () => {
    skip = await webgpuSkipReason();
    if (skip) console.log(`# webgpu tests skipped: ${skip}`);
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  test('the backend internals the sync read and the buffer limits rely on are there', async (t) => {
    if (skip) return t.skip(skip);
    await selectBackend('webgpu');
    const backend = tf.backend() as WebgpuBackendInternals;
    for (const member of ['tensorMap', 'bufferManager', 'device'] as const) assert.ok(backend[member] !== undefined, member);
    for (const method of ['ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue', 'convertAndCacheOnCPU', 'shouldExecuteOnCPU'] as const) {
      assert.equal(typeof backend[method], 'function', method);
    }
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.matMul(x, x);
    assert.deepEqual(Array.from(y.dataSync()), [7, 10, 15, 22]);
    tf.dispose([x, y]);
  });

  test('a tensor larger than the device allows is an error naming the limit', async (t) => {
    if (skip) return t.skip(skip);
    await selectBackend('webgpu');
    const { maxStorageBufferBindingSize, maxBufferSize } = (tf.backend() as WebgpuBackendInternals).device.limits;
    // one float32 more than a storage binding may hold; refused before anything is allocated
    const elements = Math.floor(Math.min(maxStorageBufferBindingSize, maxBufferSize) / 4) + 1;
    const before = tf.memory().numTensors;
    assert.throws(() => tf.tidy(() => tf.fill([elements], 1)), /exceeds this WebGPU device's max(StorageBufferBinding|Buffer)Size of .* bytes/);
    assert.equal(tf.memory().numTensors, before);
  });

  test('the smoke ResNet: features and gradients match the cpu backend', async (t) => {
    if (skip) return t.skip(skip);
    const encoderConfig = getPreset('smoke').pretrain.encoder;
    const run = async (backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> => {
      await selectBackend(backend);
      const encoder = makeEncoder(encoderConfig, new Rng(3));
      const x = tf.randomUniform([6, 32, 32, 3], 0, 1, 'float32', 4);
      const vars = [...encoder.trainable.values()];
      const outputs = tf.tidy(() => {
        const features = encoder.apply(x, true);
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(encoder.apply(x, true))), vars);
        return [features, ...vars.map((v) => grads[v.name])];
      });
      const arrays = outputs.map((o) => o.dataSync() as Float32Array);
      tf.dispose([...outputs, x]);
      encoder.dispose();
      return arrays;
    };
    const expected = await run('cpu');
    const actual = await run('webgpu');
    expected.forEach((e, i) => assertCloseToCpu(actual[i], e, GRADIENT_TOLERANCE, i === 0 ? 'features' : `gradient ${i}`, WEBGPU));
  });

  for (const step of ['simclr', 'supervised'] as const) {
    test(`one ${step} step of the smoke preset: loss and updated weights match the cpu backend`, async (t) => {
      if (skip) return t.skip(skip);
      const expected = await oneStep('cpu', step);
      const actual = await oneStep('webgpu', step);
      assertCloseToCpu(Float32Array.of(actual.loss), Float32Array.of(expected.loss), STEP_TOLERANCE, 'loss', WEBGPU);
      for (const [name, values] of expected.weights) assertCloseToCpu(actual.weights.get(name) ?? new Float32Array(), values, STEP_TOLERANCE, name, WEBGPU);
    });
  }

  test('a smoke SimCLR step runs every kernel on the GPU, and tensors and GPU memory stay flat', async (t) => {
    if (skip) return t.skip(skip);
    await selectBackend('webgpu');
    const backend = tf.backend() as WebgpuBackendInternals;
    const counts = { reads: 0, cpuKernels: 0 };
    const { readSync, read, shouldExecuteOnCPU } = backend;
    backend.readSync = (dataId) => { counts.reads++; return readSync.call(backend, dataId); };
    backend.read = (dataId) => { counts.reads++; return read.call(backend, dataId); };
    backend.shouldExecuteOnCPU = (inputs, threshold) => {
      const onCpu = shouldExecuteOnCPU.call(backend, inputs, threshold);
      if (onCpu) counts.cpuKernels++;
      return onCpu;
    };
    const built = buildTask('simclr', 'smoke', data);
    const stepper = makeStepper(built.task, 'simclr');
    try {
      const readings: Array<{ tensors: number; bytes: number }> = [];
      for (let i = 0; i < 4; i++) {
        counts.reads = 0;
        const loss = stepper.step(i);
        assert.equal(counts.reads, 0, `step ${i + 1} read ${counts.reads} tensors back to the CPU`);
        assert.equal(counts.cpuKernels, 0, `step ${i + 1} ran ${counts.cpuKernels} kernels on the CPU`);
        assert.ok(Number.isFinite(loss.dataSync()[0]));
        loss.dispose();
        const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
        readings.push({ tensors: memory.numTensors, bytes: memory.numBytesInGPU });
      }
      // the first step creates the momentum slots; from then on nothing may grow
      assert.deepEqual(readings.slice(2), [readings[1], readings[1]], `tensors / GPU bytes after each step: ${JSON.stringify(readings)}`);
    } finally {
      Object.assign(backend, { readSync, read, shouldExecuteOnCPU });
      stepper.dispose();
      built.dispose();
    }
  });
});

/** A training step as the loop takes it (augmentation, forward, loss, gradients, update), the loss left unread. */
function makeStepper(task: TrainingTask, step: 'simclr' | 'supervised'): { step: (i: number) => tf.Scalar; dispose: () => void } {
  const preset = getPreset('smoke');
  const { batchSize, optimizer: config } = step === 'simclr' ? preset.pretrain : preset.scratch;
  const optimizer = makeOptimizer(config, task.trainable);
  const vars = [...task.trainable.values()];
  const pathOf = new Map([...task.trainable].map(([name, v]) => [v.name, name]));
  const rows = data.splits.trainPool.subarray(0, batchSize);
  return {
    step: (i) => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => task.batchLoss(rows, new Rng(i)), vars);
      optimizer.applyGradients(new Map(Object.entries(grads).map(([name, g]) => [pathOf.get(name) ?? name, g])), config.learningRate);
      return value;
    }),
    dispose: () => optimizer.dispose(),
  };
}

async function oneStep(backend: 'cpu' | 'webgpu', step: 'simclr' | 'supervised'): Promise<{ loss: number; weights: Map<string, Float32Array> }> {
  await selectBackend(backend);
  const built = buildTask(step, 'smoke', data);
  const stepper = makeStepper(built.task, step);
  try {
    const loss = stepper.step(0);
    const value = loss.dataSync()[0];
    loss.dispose();
    const weights = new Map([...built.task.saved].map(([name, v]) => [name, v.dataSync() as Float32Array]));
    return { loss: value, weights };
  } finally {
    stepper.dispose();
    built.dispose();
  }
}

