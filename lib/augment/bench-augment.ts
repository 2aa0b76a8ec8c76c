/**
 * Measures the cost of SimCLR augmentation against a training step of a preset, on one backend.
 *
 *   npx tsx lib/augment/bench-augment.ts [tensorflow|onnx|wasm|cpu] [preset] [batch] [--augment-only]
 *
 * Prints the median milliseconds of two views of a batch, of a forward + backward pass of the
 * preset's encoder and projection head with NT-Xent on those views (the optimizer update is left
 * out, so the real step is a little longer), and their ratio. Where the backend has no gradient
 * kernels it times the forward pass alone, about a third of a step. The step runs
 * once: on the cpu backend it takes minutes.
 */
import * as tf from '@tensorflow/tfjs';
import { parseBackendName, selectBackend } from '../backend/select';
import { getPreset } from '../config/presets';
import { ntXentLoss } from '../losses/nt-xent';
import { makeProjectionHead } from '../models/heads';
import { makeEncoder } from '../models/make-encoder';
import { Rng } from '../util/random';
import { simclrViews } from './simclr';
import { median } from '../util/median';


/** Median wall milliseconds of `reps` runs of `fn`, after one warm-up run if asked. */
function timeMs(reps: number, warmUp: boolean, fn: () => void): number {
  if (warmUp) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

export interface AugmentBenchResult {
  backend: string;
  preset: string;
  batch: number;
  /** two SimCLR views of the batch, median ms */
  augmentMs: number;
  /** encoder + head with NT-Xent on 2 x batch views, ms (undefined when not measured) */
  stepMs?: number;
  /** what `stepMs` timed */
  stepKind?: 'forward+backward' | 'forward';
}

/** Times augmentation and (unless `augmentOnly`) one training step's forward + backward on the current backend. */
export function benchAugment(presetName: string, batch: number, augmentOnly = false, augmentReps = 5): AugmentBenchResult {
  const config = getPreset(presetName).pretrain;
  const rng = new Rng(0);
  const x = tf.tidy(() => tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D);
  const augmentMs = timeMs(augmentReps, true, () => {
    tf.dispose(simclrViews(x, config.augment, rng));
  });
  if (augmentOnly) {
    x.dispose();
    return { backend: tf.getBackend(), preset: presetName, batch, augmentMs };
  }

  const encoder = makeEncoder(config.encoder, rng);
  const head = makeProjectionHead(encoder.featureDim, config.head, rng);
  const [view1, view2] = simclrViews(x, config.augment, rng);
  const varList = [...encoder.trainable.values(), ...head.trainable.values()];
  const loss = () => {
    const z = head.apply(encoder.apply(tf.concat([view1, view2], 0), true), true) as tf.Tensor2D; // [2B, outputDim]
    return ntXentLoss(z.slice([0, 0], [batch, -1]), z.slice([batch, 0], [batch, -1]), config.temperature);
  };
  let stepKind: AugmentBenchResult['stepKind'] = 'forward+backward';
  let stepMs: number;
  try {
    stepMs = timeMs(1, false, () => {
      const { value, grads } = tf.variableGrads(loss, varList);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
  } catch (err) {
    if (!(err instanceof Error && err.message.includes('not registered'))) throw err;
    stepKind = 'forward';
    stepMs = timeMs(1, false, () => tf.tidy(() => {
      loss().dataSync();
    }));
  }
  tf.dispose([x, view1, view2]);
  encoder.dispose();
  head.dispose();
  return { backend: tf.getBackend(), preset: presetName, batch, augmentMs, stepMs, stepKind };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const augmentOnly = args.includes('--augment-only');
  const [backend = 'cpu', preset = 'quick', batchArg = '256'] = args.filter((a) => !a.startsWith('--'));
  await selectBackend(parseBackendName(backend, 'the first argument'));
  const result = benchAugment(preset, Number(batchArg), augmentOnly);
  console.log(JSON.stringify(result));
  const step = result.stepMs === undefined
    ? ''
    : `, ${result.stepKind} ${result.stepMs.toFixed(0)} ms, ratio ${(result.augmentMs / result.stepMs).toFixed(3)}`;
  console.log(`${result.backend}, preset ${result.preset}, batch ${result.batch}: two views ${result.augmentMs.toFixed(0)} ms${step}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
