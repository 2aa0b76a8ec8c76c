import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EarlyStoppingConfig, OptimizerConfig } from '../config/types';
import { EarlyStopper } from '../eval/convergence';
import { makeOptimizer } from '../optim/optimizer';
import { learningRateAt } from '../optim/schedule';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { InterruptedError, UserError } from '../util/errors';
import { Rng, RngState, mixSeed } from '../util/random';
import type { EpochRecord, RunHistory } from './history';
import { assignTensors, readTensors, writeTensors } from './tensor-store';

/** The knobs the loop itself reads; each protocol's config supplies them. */
export interface LoopConfig {
  epochs: number;
  /** rows per optimizer step (the last batch of an epoch may be shorter) */
  batchSize: number;
  /** drop an epoch's last batch when it is shorter than `batchSize` (SimCLR: yes, so every step sees as many negatives) */
  dropLast: boolean;
  optimizer: OptimizerConfig;
  earlyStopping: EarlyStoppingConfig;
  seed: number;
}

/** What an epoch's evaluation reports; `selection` (higher is better) drives early stopping and keeps the best weights. */
export interface EpochEvaluation {
  metrics: Partial<Pick<EpochRecord, 'valAccuracy' | 'knnAccuracy' | 'onlineProbeAccuracy' | 'embeddingStd'>>;
  selection?: number;
}

/**
 * One protocol (pretraining, probe, fine-tuning, supervised) as seen by the loop: which rows an
 * epoch visits, the loss of a batch of rows, which variables to train and save, how to evaluate.
 */
export interface TrainingTask {
  /** variables the optimizer updates */
  trainable: Map<string, tf.Variable>;
  /** every variable a checkpoint holds (trainable ones and batch-norm statistics) */
  saved: Map<string, tf.Variable>;
  /** rows (image or feature indices) of an epoch, in visiting order; `epoch` is 1-based */
  epochRows(epoch: number): Int32Array;
  /** scalar loss of a batch of rows; runs inside `tf.variableGrads`; draws augmentation randomness from `rng` */
  batchLoss(rows: Int32Array, rng: Rng): tf.Scalar;
  /** validation metrics after an epoch */
  evaluate(epoch: number, isLastEpoch: boolean): EpochEvaluation;
}

export interface StepReport {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
  learningRate: number;
  imagesPerSecond: number;
}

/** Observers of a run; the loop never prints. */
export interface LoopHooks {
  onStart?(info: { startEpoch: number; epochs: number; stepsPerEpoch: number; resumed: boolean }): void;
  onStep?(report: StepReport): void;
  onEpochEnd?(record: EpochRecord): void;
  onEnd?(): void;
}

export interface RunOptions {
  /** folder of the run: checkpoint/, history.jsonl, step-lr.json */
  runDir: string;
  /** continue from `runDir/checkpoint` (a finished run returns its stored result) */
  resume: boolean;
  /** hash of the full configuration; a checkpoint made under another hash is refused */
  configHash: string;
  hooks?: LoopHooks;
  /** set `requested` to stop after the current step; the loop saves a checkpoint and throws InterruptedError */
  stop?: { requested: boolean };
}

export interface LoopResult {
  history: RunHistory;
  /** epoch whose weights the variables hold at the end (best selection), or null when nothing was selected */
  selectedEpoch: number | null;
  bestSelection: number | null;
  stoppedEarly: boolean;
  epochsRun: number;
  /** optimizer steps over the run */
  steps: number;
  /** training rows (images or feature rows) the steps consumed, repeats counted */
  imagesSeen: number;
  /** training and evaluation time summed over the sessions that made the run, seconds */
  wallSeconds: number;
  /** mean training throughput over the run */
  imagesPerSecond: number;
}

/** Everything besides tensors that a checkpoint must hold to continue exactly. */
interface LoopState {
  configHash: string;
  finished: boolean;
  /** epochs fully done */
  epochsDone: number;
  /** steps done inside the next epoch (non-zero only for a checkpoint written on Ctrl-C) */
  stepInEpoch: number;
  epochLossSum: number;
  epochImages: number;
  epochTrainSeconds: number;
  optimizerStep: number;
  rng: RngState;
  history: RunHistory;
  earlyStopping: ReturnType<EarlyStopper['toJSON']>;
  selectedEpoch: number | null;
  bestSelection: number | null;
  stoppedEarly: boolean;
  wallSeconds: number;
  trainSeconds: number;
  trainImages: number;
}

const CHECKPOINT = 'checkpoint';

/** Number of optimizer steps for `rows` rows. */
export function stepsFor(rows: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}

/**
 * The project's one training loop. Per step: learning rate from the warm-up + cosine schedule,
 * loss and gradients of the task's batch, a finite-loss check, an optimizer update. Per epoch:
 * evaluation, best-weights tracking, early stopping, an atomic checkpoint and the history files.
 */
export async function runTrainingLoop(task: TrainingTask, config: LoopConfig, options: RunOptions): Promise<LoopResult> {
  if (!Number.isInteger(config.epochs) || config.epochs < 1) throw new UserError(`epochs must be a positive integer, got ${config.epochs}`, 2);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${config.batchSize}`, 2);

  const optimizer = makeOptimizer(config.optimizer, task.trainable);
  const checkpointDir = path.join(options.runDir, CHECKPOINT);
  const stepsPerEpoch = stepsFor(task.epochRows(1).length, config.batchSize, config.dropLast);
  if (stepsPerEpoch < 1) throw new UserError(`an epoch has fewer rows than one batch of ${config.batchSize}; lower the batch size`, 2);
  const totalSteps = stepsPerEpoch * config.epochs;
  const warmupSteps = Math.round(config.optimizer.warmupEpochs * stepsPerEpoch);

  let state = freshState(config, options.configHash);
  let stopper = new EarlyStopper(config.earlyStopping);
  let best: Map<string, tf.Tensor> | null = null;
  const resumed = options.resume && fs.existsSync(path.join(checkpointDir, 'state.json'));
  if (resumed) {
    state = readState(checkpointDir, options.configHash);
    assignTensors(task.saved, readTensors(checkpointDir, 'variables'), checkpointDir);
    assignTensors(optimizer.slots, readTensors(checkpointDir, 'optimizer'), checkpointDir);
    optimizer.step = state.optimizerStep;
    stopper = EarlyStopper.fromJSON(config.earlyStopping, state.earlyStopping);
    if (fs.existsSync(path.join(checkpointDir, 'best.json'))) best = loadBest(checkpointDir);
  }
  const rng = Rng.fromState(state.rng);

  const finish = (): LoopResult => {
    if (best) restoreBest(task.saved, best);
    disposeBest(best);
    optimizer.dispose();
    options.hooks?.onEnd?.();
    return {
      history: state.history,
      selectedEpoch: state.selectedEpoch,
      bestSelection: state.bestSelection,
      stoppedEarly: state.stoppedEarly,
      epochsRun: state.epochsDone,
      steps: state.optimizerStep,
      imagesSeen: state.trainImages,
      wallSeconds: state.wallSeconds,
      imagesPerSecond: state.trainSeconds > 0 ? state.trainImages / state.trainSeconds : 0,
    };
  };
  if (state.finished) return finish();

  const save = (): void => {
    state.rng = rng.getState();
    state.optimizerStep = optimizer.step;
    state.earlyStopping = stopper.toJSON();
    replaceDirAtomic(checkpointDir, (tmp) => {
      writeTensors(tmp, 'variables', task.saved);
      writeTensors(tmp, 'optimizer', optimizer.slots);
      if (best) writeTensors(tmp, 'best', best);
      writeJsonAtomic(path.join(tmp, 'state.json'), state);
    });
    writeFileAtomic(path.join(options.runDir, 'history.jsonl'), state.history.epochs.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeJsonAtomic(path.join(options.runDir, 'step-lr.json'), state.history.stepLearningRates);
  };

  options.hooks?.onStart?.({ startEpoch: state.epochsDone + 1, epochs: config.epochs, stepsPerEpoch, resumed });
  const varList = [...task.trainable.values()];
  // tf.variableGrads keys gradients by the engine's variable names; map them back to our paths.
  const pathOf = new Map([...task.trainable].map(([name, variable]) => [variable.name, name]));
  for (let epoch = state.epochsDone + 1; epoch <= config.epochs; epoch++) {
    const epochStart = Date.now();
    const rows = task.epochRows(epoch);
    for (let stepInEpoch = state.stepInEpoch; stepInEpoch < stepsPerEpoch; stepInEpoch++) {
      const batchRows = rows.subarray(stepInEpoch * config.batchSize, Math.min(rows.length, (stepInEpoch + 1) * config.batchSize));
      const learningRate = learningRateAt(optimizer.step, totalSteps, warmupSteps, config.optimizer);
      const stepStart = performance.now();
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => task.batchLoss(batchRows, rng), varList);
        const lossValue = value.dataSync()[0];
        if (!Number.isFinite(lossValue)) {
          throw new UserError(`loss became ${lossValue} at epoch ${epoch}, step ${stepInEpoch + 1}; the last good checkpoint in ${checkpointDir} is kept (lower the learning rate?)`);
        }
        optimizer.applyGradients(new Map(Object.entries(grads).map(([engineName, g]) => [pathOf.get(engineName) ?? engineName, g])), learningRate);
        return lossValue;
      });
      const stepSeconds = (performance.now() - stepStart) / 1000;
      state.history.stepLearningRates.push(learningRate);
      state.epochLossSum += loss * batchRows.length;
      state.epochImages += batchRows.length;
      state.epochTrainSeconds += stepSeconds;
      state.trainSeconds += stepSeconds;
      state.trainImages += batchRows.length;
      state.stepInEpoch = stepInEpoch + 1;
      options.hooks?.onStep?.({
        epoch, epochs: config.epochs, stepInEpoch: stepInEpoch + 1, stepsPerEpoch, loss, learningRate,
        imagesPerSecond: batchRows.length / Math.max(stepSeconds, 1e-9),
      });
      // Yield to the event loop so a Ctrl-C handler can run between steps.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.stop?.requested) {
        state.wallSeconds += (Date.now() - epochStart) / 1000;
        save();
        throw new InterruptedError(`stopped at epoch ${epoch}, step ${stepInEpoch + 1}; checkpoint saved in ${checkpointDir}; continue with --resume`);
      }
    }
    const isLast = epoch === config.epochs;
    const evaluation = task.evaluate(epoch, isLast);
    const record: EpochRecord = {
      epoch,
      trainLoss: state.epochLossSum / Math.max(1, state.epochImages),
      ...evaluation.metrics,
      learningRate: state.history.stepLearningRates[state.history.stepLearningRates.length - 1] ?? 0,
      steps: optimizer.step,
      imagesPerSecond: state.epochImages / Math.max(state.epochTrainSeconds, 1e-9),
      seconds: (Date.now() - epochStart) / 1000,
    };
    state.history.epochs.push(record);
    state.epochsDone = epoch;
    state.stepInEpoch = 0;
    state.epochLossSum = 0;
    state.epochImages = 0;
    state.epochTrainSeconds = 0;
    state.wallSeconds += record.seconds;
    if (evaluation.selection !== undefined) {
      const verdict = stopper.update(epoch, evaluation.selection);
      if (verdict.improved || best === null) {
        disposeBest(best);
        best = snapshot(task.saved);
        state.selectedEpoch = epoch;
        state.bestSelection = evaluation.selection;
      }
      state.stoppedEarly = verdict.stop && !isLast;
    }
    state.finished = isLast || state.stoppedEarly;
    save();
    options.hooks?.onEpochEnd?.(record);
    if (state.stoppedEarly) break;
  }
  return finish();
}

function freshState(config: LoopConfig, hash: string): LoopState {
  return {
    configHash: hash, finished: false, epochsDone: 0, stepInEpoch: 0, epochLossSum: 0, epochImages: 0,
    epochTrainSeconds: 0, optimizerStep: 0, rng: new Rng(mixSeed(config.seed, 0x10017)).getState(),
    history: { epochs: [], stepLearningRates: [] }, earlyStopping: new EarlyStopper(config.earlyStopping).toJSON(),
    selectedEpoch: null, bestSelection: null, stoppedEarly: false, wallSeconds: 0, trainSeconds: 0, trainImages: 0,
  };
}

function readState(checkpointDir: string, hash: string): LoopState {
  const state = JSON.parse(fs.readFileSync(path.join(checkpointDir, 'state.json'), 'utf8')) as LoopState;
  if (state.configHash !== hash) {
    throw new UserError(
      `${checkpointDir} was made with configuration ${state.configHash}, not ${hash}; resume with the same settings, or use another --out folder`, 2);
  }
  return state;
}

function snapshot(variables: Map<string, tf.Variable>): Map<string, tf.Tensor> {
  return new Map([...variables].map(([name, v]) => [name, tf.keep(v.clone())]));
}

function loadBest(checkpointDir: string): Map<string, tf.Tensor> {
  const stored = readTensors(checkpointDir, 'best');
  return new Map([...stored].map(([name, t]) => [name, tf.keep(tf.tensor(t.values, t.shape))]));
}

function restoreBest(variables: Map<string, tf.Variable>, best: Map<string, tf.Tensor>): void {
  for (const [name, variable] of variables) {
    const value = best.get(name);
    if (value) variable.assign(value);
  }
}

function disposeBest(best: Map<string, tf.Tensor> | null): void {
  if (best) for (const t of best.values()) t.dispose();
}
