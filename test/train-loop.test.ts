import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { noAugment, sgdCosine, simclrAugment } from '../lib/config/defaults';
import type { PretrainConfig, SupervisedConfig } from '../lib/config/types';
import { loadModuleWeights } from '../lib/models/weights-io';
import { makeEncoder } from '../lib/models/make-encoder';
import { pretrain } from '../lib/train/pretrain';
import { trainSupervised } from '../lib/train/supervised';
import { type TrainingTask, runTrainingLoop } from '../lib/train/loop';
import { reachedPlateau } from '../lib/eval/convergence';
import { Rng } from '../lib/util/random';
import { selectBackend } from '../lib/backend/select';
import { toyContext } from './helpers/toy-data';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-run-'));
const data = toyContext({ trainPerClass: 24, testPerClass: 8, validationPerClass: 4 });

function supervisedConfig(overrides: Partial<SupervisedConfig> = {}): SupervisedConfig {
  return {
    data: data.config,
    encoder: { kind: 'resnet', width: 4, blocksPerStage: [1, 1] },
    init: 'scratch',
    freeze: false,
    classifierInit: 'random',
    labelFraction: 1,
    augment: noAugment,
    optimizer: { ...sgdCosine, learningRate: 0.05, warmupEpochs: 0, weightDecay: 0 },
    epochs: 3,
    minSteps: 0,
    roundImages: 0,
    batchSize: 50,
    earlyStopping: { patience: 0, minDelta: 0 },
    seed: 3,
    ...overrides,
  };
}

function pretrainConfig(overrides: Partial<PretrainConfig> = {}): PretrainConfig {
  return {
    data: data.config,
    encoder: { kind: 'resnet', width: 4, blocksPerStage: [1, 1] },
    head: { hiddenDim: 16, outputDim: 8 },
    augment: { ...simclrAugment, cropScale: [0.5, 1], colorJitter: { ...simclrAugment.colorJitter, p: 0 }, grayscaleP: 0 },
    sampling: { mode: 'all', fraction: 1 },
    optimizer: { ...sgdCosine, learningRate: 0.1, warmupEpochs: 0, weightDecay: 1e-6 },
    epochs: 2,
    batchSize: 50,
    temperature: 0.5,
    knn: { k: 10, temperature: 0.1, everyEpochs: 1, bankSize: 0, querySize: 0 },
    onlineProbe: true,
    seed: 5,
    ...overrides,
  };
}

describe('training loop', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  test('supervised training loss falls on a learnable toy task and test metrics are reported', async () => {
    const result = await trainSupervised(supervisedConfig({ epochs: 10, optimizer: { ...sgdCosine, learningRate: 0.1, warmupEpochs: 0, weightDecay: 0 } }), data, { runDir: tmp(), resume: false });
    const losses = result.loop.history.epochs.map((e) => e.trainLoss);
    assert.ok(losses[losses.length - 1] < losses[0] * 0.8, `loss did not fall: ${losses.map((l) => l.toFixed(3))}`);
    assert.equal(result.loop.history.stepLearningRates.length, 10 * Math.ceil(data.splits.trainPool.length / 50));
    assert.ok(result.test.accuracy > 0.2, `test accuracy ${result.test.accuracy}`);
    assert.equal(result.test.confusion.length, 10);
  });

  test('real epochs: the step floor adds passes, rounds group them, records give epochs, steps and images', async () => {
    // 200 labelled images, batch 50: 4 steps per pass; minSteps 24 -> 6 passes; roundImages 400 -> 2 passes per round, 3 rounds
    const result = await trainSupervised(supervisedConfig({ epochs: 1, minSteps: 24, roundImages: 400 }), data, { runDir: tmp(), resume: false });
    const n = data.splits.trainPool.length;
    assert.equal(n, 200);
    assert.equal(result.passesPerRound, 2);
    assert.equal(result.loop.epochsRun, 3);
    assert.equal(result.realEpochs, 6);
    assert.equal(result.loop.steps, 24);
    assert.equal(result.loop.imagesSeen, 6 * n);
    assert.equal(result.epochsToBest, 2 * result.loop.selectedEpoch!);
    assert.equal(result.testCorrect.length, data.splits.test.length);
    assert.equal(result.testCorrect.reduce((s, v) => s + v, 0) / result.testCorrect.length, result.test.accuracy);
  });

  test('early stopping on a validation plateau ends the run and restores the best-validation weights', async () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const scripted = [0.5, 0.7, 0.65, 0.69, 0.6, 0.9];
    const seen: number[][] = [];
    const task: TrainingTask = {
      trainable: new Map([['w.kernel', w]]),
      saved: new Map([['w.kernel', w]]),
      epochRows: () => Int32Array.from([0, 1, 2, 3]),
      batchLoss: () => w.sub(tf.tensor1d([1, 2])).square().sum() as tf.Scalar,
      evaluate: (epoch) => ({ metrics: { valAccuracy: scripted[epoch - 1] }, selection: scripted[epoch - 1] }),
    };
    const result = await runTrainingLoop(
      task,
      { epochs: 6, batchSize: 2, dropLast: false, optimizer: { ...sgdCosine, schedule: 'constant', learningRate: 0.1, warmupEpochs: 0, weightDecay: 0 }, earlyStopping: { patience: 2, minDelta: 0 }, seed: 0 },
      { runDir: tmp(), resume: false, configHash: 'test', hooks: { onEpochEnd: () => seen.push(Array.from(w.dataSync())) } },
    );
    assert.equal(result.epochsRun, 4, 'best at epoch 2, no gain at 3 and 4: patience 2 stops after epoch 4 (the 0.9 of epoch 6 is never reached)');
    assert.equal(result.stoppedEarly, true);
    assert.equal(result.selectedEpoch, 2);
    assert.equal(result.bestSelection, 0.7);
    assert.deepEqual(Array.from(w.dataSync()), seen[1], 'the weights of epoch 2 are restored');
    assert.notDeepEqual(seen[1], seen[3]);
    assert.equal(result.steps, 8);
    assert.equal(result.imagesSeen, 16);
    assert.equal(reachedPlateau(result.history.epochs.map((e) => e.valAccuracy!)), true);
    w.dispose();
  });

  test('tensor count stays flat across steps and epochs', async () => {
    const config = supervisedConfig({ epochs: 1 });
    await trainSupervised(config, data, { runDir: tmp(), resume: false }); // warm-up: kernels, caches
    const counts = new Map<number, number[]>();
    await trainSupervised({ ...config, epochs: 3 }, data, {
      runDir: tmp(), resume: false,
      hooks: { onStep: (s) => counts.set(s.epoch, [...(counts.get(s.epoch) ?? []), tf.memory().numTensors]) },
    });
    const [first, second, third] = [counts.get(1)!, counts.get(2)!, counts.get(3)!];
    assert.ok(first.length >= 4);
    for (const epoch of [first, second, third]) assert.equal(Math.max(...epoch), Math.min(...epoch), `tensor counts within an epoch: ${epoch}`);
    // After epoch 1 the loop holds one copy of the best epoch's weights, replaced (not added to) later.
    assert.equal(second[0], third[0], 'tensor count grows from epoch to epoch');
    const before = tf.memory().numTensors;
    await trainSupervised(config, data, { runDir: tmp(), resume: false });
    assert.equal(tf.memory().numTensors, before, 'a whole run leaks tensors');
  });

  test('a run stopped and resumed gives the same next epoch as an uninterrupted run', async () => {
    const config = supervisedConfig({ epochs: 3 });
    const full = await trainSupervised(config, data, { runDir: tmp(), resume: false });
    const runDir = tmp();
    await trainSupervised({ ...config }, data, { runDir, resume: false, hooks: { onEpochEnd: (r) => { if (r.epoch === 2) throw new Error('crash'); } } })
      .then(() => assert.fail('expected the simulated crash'), (err: Error) => assert.equal(err.message, 'crash'));
    const resumed = await trainSupervised(config, data, { runDir, resume: true });
    assert.equal(resumed.loop.history.epochs.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(resumed.loop.history.epochs[i].trainLoss, full.loop.history.epochs[i].trainLoss, `epoch ${i + 1} loss differs`);
      assert.equal(resumed.loop.history.epochs[i].valAccuracy, full.loop.history.epochs[i].valAccuracy);
    }
    assert.deepEqual(resumed.test.confusion, full.test.confusion);
  });

  test('Ctrl-C saves a mid-epoch checkpoint and resuming continues exactly', async () => {
    const config = supervisedConfig({ epochs: 2 });
    const full = await trainSupervised(config, data, { runDir: tmp(), resume: false });
    const runDir = tmp();
    const stop = { requested: false };
    await assert.rejects(
      trainSupervised(config, data, { runDir, resume: false, stop, hooks: { onStep: (s) => { if (s.epoch === 1 && s.stepInEpoch === 2) stop.requested = true; } } }),
      /stopped at epoch 1, step 2.*--resume/,
    );
    const resumed = await trainSupervised(config, data, { runDir, resume: true });
    assert.deepEqual(resumed.loop.history.epochs.map((e) => e.trainLoss), full.loop.history.epochs.map((e) => e.trainLoss));
  });

  test('a checkpoint made with another configuration is refused', async () => {
    const runDir = tmp();
    await trainSupervised(supervisedConfig({ epochs: 1 }), data, { runDir, resume: false });
    await assert.rejects(trainSupervised(supervisedConfig({ epochs: 2 }), data, { runDir, resume: true }), /made with configuration .* not /);
  });

  test('a non-finite loss stops the run naming epoch and step and keeps the last good checkpoint', async () => {
    const runDir = tmp();
    const config = supervisedConfig({ epochs: 1 });
    await trainSupervised(config, data, { runDir, resume: false });
    const state = fs.readFileSync(path.join(runDir, 'checkpoint', 'state.json'), 'utf8');
    await assert.rejects(
      trainSupervised({ ...config, optimizer: { ...config.optimizer, learningRate: Infinity } }, data, { runDir: tmp(), resume: false }),
      /loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+/,
    );
    assert.equal(fs.readFileSync(path.join(runDir, 'checkpoint', 'state.json'), 'utf8'), state);
  });

  test('SimCLR on a synthetic two-class set reaches kNN accuracy well above chance; the linear probe leaves the encoder unchanged', async () => {
    const twoClass = toyContext({ trainPerClass: 100, testPerClass: 20, classes: 2, validationPerClass: 20, seed: 7 });
    const runDir = tmp();
    const result = await pretrain(pretrainConfig({ data: twoClass.config, epochs: 3 }), twoClass, { runDir, resume: false });
    const last = result.loop.history.epochs[result.loop.history.epochs.length - 1];
    assert.ok((last.knnAccuracy ?? 0) > 0.8, `kNN accuracy ${last.knnAccuracy}`);
    assert.ok((last.embeddingStd ?? 0) > 0, 'embedding std');
    result.encoder.dispose();

    const encoder = makeEncoder({ kind: 'resnet', width: 4, blocksPerStage: [1, 1] }, new Rng(0));
    loadModuleWeights(encoder, result.encoderDir);
    const before = new Map([...encoder.trainable, ...encoder.state].map(([k, v]) => [k, v.dataSync().slice()]));
    const probe = await trainSupervised(
      supervisedConfig({ data: twoClass.config, init: result.encoderDir, freeze: true, epochs: 30, optimizer: { ...sgdCosine, learningRate: 0.1, warmupEpochs: 0, weightDecay: 0, nesterov: false } }), twoClass, { runDir: tmp(), resume: false, encoder });
    assert.ok(probe.test.accuracy > 0.6, `probe accuracy ${probe.test.accuracy}`);
    for (const [name, variable] of [...encoder.trainable, ...encoder.state]) {
      assert.deepEqual(variable.dataSync(), before.get(name), `${name} changed`);
    }
    encoder.dispose();
  });
});
