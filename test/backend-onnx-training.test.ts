/**
 * A short SimCLR pretraining run (the real task: augmentation, ResNet with batch norm, projection
 * head, NT-Xent, online probe, SGD with momentum and weight decay) gives the same per-step loss
 * curve on the 'onnx' backend as on the cpu backend. Float32 rounding differs between the two
 * (ORT's GEMMs sum in another order, the fused batch norm folds its arithmetic), and the
 * difference grows through training, so the tolerance is stated per step: 1e-3 of the loss.
 * Skipped when onnxruntime-node cannot load.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { selectBackend } from '../lib/backend/select';
import { sgdCosine, simclrAugment } from '../lib/config/defaults';
import type { PretrainConfig } from '../lib/config/types';
import { pretrain } from '../lib/train/pretrain';
import { toyContext } from './helpers/toy-data';
import { onnxUnavailableReason } from 'tfjs-backend-onnx';

/** |onnx loss - cpu loss| allowed at every step, as a fraction of the cpu loss */
const RELATIVE_TOLERANCE = 1e-3;

// Small enough for the cpu backend, whose convolution gradients are plain loops: 16x16 crops of a
// width-4 network, 8 steps.
const data = toyContext({ trainPerClass: 20, testPerClass: 4, validationPerClass: 4, seed: 11 });

const config: PretrainConfig = {
  data: data.config,
  encoder: { kind: 'resnet', width: 4, blocksPerStage: [1, 1] },
  head: { hiddenDim: 16, outputDim: 8 },
  augment: { ...simclrAugment, cropSize: 16 },
  sampling: { mode: 'all', fraction: 1 },
  optimizer: { ...sgdCosine, learningRate: 0.2, warmupEpochs: 0.5, weightDecay: 5e-4 },
  epochs: 2,
  batchSize: 40,
  temperature: 0.5,
  knn: { k: 10, temperature: 0.1, everyEpochs: 2, bankSize: 0, querySize: 0 },
  onlineProbe: true,
  seed: 2,
};

async function stepLosses(backend: 'cpu' | 'onnx'): Promise<number[]> {
  await selectBackend(backend);
  const losses: number[] = [];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `cifar-ssl-${backend}-curve-`));
  const result = await pretrain(config, data, { runDir, resume: false, hooks: { onStep: (step) => losses.push(step.loss) } });
  result.encoder.dispose();
  fs.rmSync(runDir, { recursive: true, force: true });
  return losses;
}

describe('training on the onnx backend', { skip: onnxUnavailableReason() }, () => {
  test(`a short SimCLR run gives the cpu backend's loss curve, every step within ${RELATIVE_TOLERANCE} of the loss`, async () => {
    const expected = await stepLosses('cpu');
    const actual = await stepLosses('onnx');
    assert.ok(expected.length >= 6, `only ${expected.length} steps`);
    assert.equal(actual.length, expected.length);
    expected.forEach((loss, i) => {
      const gap = Math.abs(actual[i] - loss);
      assert.ok(gap <= RELATIVE_TOLERANCE * Math.abs(loss), `step ${i + 1}: onnx ${actual[i]} vs cpu ${loss} (gap ${gap})`);
    });
    assert.ok(expected[expected.length - 1] < expected[0], 'the loss falls, so the curve is not flat by accident');
  });
});
