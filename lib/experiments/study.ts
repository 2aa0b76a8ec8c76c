import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configHash } from '../config/hash';
import type { StudyPreset } from '../config/presets';
import type { PretrainConfig, SupervisedConfig } from '../config/types';
import { type FeatureCache, computeFeatureCache, FEATURE_BATCH, gatherFeatures } from '../eval/feature-cache';
import { extractFeatures } from '../eval/features';
import { makeEncoder } from '../models/make-encoder';
import type { Encoder } from '../models/types';
import type { LoopHooks } from '../train/loop';
import { pretrain } from '../train/pretrain';
import { type SupervisedResult, initialEncoder, supervisedRunHash, trainSupervised } from '../train/supervised';
import { writeJsonAtomic } from '../util/atomic-write';
import { Rng, mixSeed } from '../util/random';
import type { RunContext } from './context';
import { knnTestReport } from './knn-eval';
import type { Method, RunRecord } from './records';
import { ResultsStore } from './results-store';
import { STUDY_META_FILE, type StudyMeta, readStudyMeta } from './study-meta';

export interface StudyOptions {
  preset: StudyPreset;
  context: RunContext;
  /** results/<preset> lives here (committed records, histories, summaries) */
  resultsRoot: string;
  /** runs/<preset> lives here (checkpoints; not committed) */
  runsRoot: string;
  hooks: (label: string) => LoopHooks;
  log: (line: string) => void;
  stop?: { requested: boolean };
}

/** One pretraining run of the study, as the report reads it. */
export interface PretrainSummary {
  name: 'pretrain' | 'ablation-fixed-subset' | 'ablation-fresh-subset';
  /** copy of the run's history in results/ */
  runDir: string;
  sampling: PretrainConfig['sampling'];
  epochs: number;
  steps: number;
  wallSeconds: number;
  imagesPerSecond: number;
  finalKnnAccuracy: number | null;
  configHash: string;
}

const pctOf = (fraction: number): number => Math.round(fraction * 10000) / 100;

/** The steps of the study; each can run alone (a notebook runs one or two), in this order. */
export interface Study {
  /** 2. SimCLR pretraining and the dynamic-sampling ablation; returns the main encoder's folder */
  pretraining(): Promise<string>;
  /** 3. kNN and linear probe of the SSL encoder (and of the ablation encoders) at every label percentage */
  probes(): Promise<void>;
  /** 4. fine-tuning of the SSL encoder */
  fineTuning(): Promise<void>;
  /** 5. the same architecture and the basic CNN trained from scratch */
  baselines(): Promise<void>;
  /** 6. linear probe of a randomly initialised encoder */
  randomFloor(): Promise<void>;
  /** writes results/<preset>/embeddings.json (test features of the SSL and the random encoder, for the projection figure) and study.json (preset, backend, data, machine, wall time) */
  finish(): void;
  readonly resultsDir: string;
  records(): RunRecord[];
}

/**
 * The whole study at one preset, in order: SimCLR pretraining and the dynamic-sampling ablation;
 * kNN and linear probes of the SSL encoder at every label percentage; fine-tuning; the same
 * architecture and the basic CNN from scratch; a linear probe of a random encoder. Each finished
 * run leaves one record in results/<preset>/; runs already recorded under the same configuration
 * are skipped and interrupted ones resume, so re-running is safe.
 */
export async function runStudy(options: StudyOptions): Promise<void> {
  const study = createStudy(options);
  await study.pretraining();
  await study.probes();
  await study.fineTuning();
  await study.baselines();
  await study.randomFloor();
  study.finish();
}

export function createStudy(options: StudyOptions): Study {
  const { preset, context, log } = options;
  const data = context.data;
  const resultsDir = path.join(options.resultsRoot, preset.name);
  const runsDir = path.join(options.runsRoot, preset.name);
  const store = new ResultsStore(resultsDir);
  const started = Date.now();
  // Runs trained or evaluated by this study object; a session that only reads finished runs adds no wall time.
  let executed = 0;
  const backend = context.backend.chosen;
  const fingerprint = data.dataset.fingerprint;
  const earlierSessionsSeconds = readStudyMeta(resultsDir)?.wallSeconds ?? 0;

  /**
   * Writes `study.json`: after every run this session executes (so the time of a session that is
   * interrupted still counts) and, with `complete`, when the study has finished.
   */
  const writeStudyMeta = (complete: boolean): void => {
    const meta: StudyMeta = {
      preset: preset.name,
      description: preset.description,
      complete,
      backend,
      dataFingerprint: fingerprint,
      runs: store.all().length,
      wallSeconds: earlierSessionsSeconds + (executed > 0 ? (Date.now() - started) / 1000 : 0),
      finishedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      presetConfig: preset,
    };
    writeJsonAtomic(path.join(resultsDir, STUDY_META_FILE), meta);
  };

  /** Counts a run this session trained or evaluated, and records the session's time so far. */
  const countExecuted = (): void => {
    executed++;
    writeStudyMeta(false);
  };

  const archiveRun = (runDir: string, name: string): string => {
    const target = path.join(resultsDir, 'runs', name);
    fs.mkdirSync(target, { recursive: true });
    for (const file of ['history.jsonl', 'step-lr.json', 'result.json']) {
      const source = path.join(runDir, file);
      if (fs.existsSync(source)) fs.copyFileSync(source, path.join(target, file));
    }
    return target;
  };

  // 1-2. Pretraining and the dynamic-sampling ablation.
  const pretrainingsFile = path.join(resultsDir, 'pretraining.json');
  const pretrainings: PretrainSummary[] = fs.existsSync(pretrainingsFile) ? (JSON.parse(fs.readFileSync(pretrainingsFile, 'utf8')) as PretrainSummary[]) : [];
  const runPretraining = async (name: PretrainSummary['name'], config: PretrainConfig): Promise<string> => {
    const runDir = path.join(runsDir, name);
    log(`== ${name}: ${config.epochs} epochs, sampling ${config.sampling.mode} (${config.sampling.fraction}), encoder ${config.encoder.kind} width ${config.encoder.width}`);
    const before = fs.existsSync(path.join(runDir, 'encoder', 'manifest.json'));
    const result = await pretrain(config, data, { runDir, resume: true, hooks: options.hooks(name), stop: options.stop });
    if (!before) countExecuted();
    result.encoder.dispose();
    const last = result.loop.history.epochs[result.loop.history.epochs.length - 1];
    const index = pretrainings.findIndex((p) => p.name === name);
    if (index >= 0) pretrainings.splice(index, 1);
    pretrainings.push({
      name, runDir: archiveRun(runDir, name), sampling: config.sampling, epochs: result.loop.epochsRun,
      steps: last?.steps ?? 0, wallSeconds: result.loop.wallSeconds, imagesPerSecond: result.loop.imagesPerSecond,
      finalKnnAccuracy: last?.knnAccuracy ?? null, configHash: configHash(config),
    });
    writeJsonAtomic(pretrainingsFile, pretrainings);
    return result.encoderDir;
  };
  const encoderDir = path.join(runsDir, 'pretrain', 'encoder');
  const pretrainHash = configHash(preset.pretrain);
  const ablationRuns = preset.ablation === null ? [] : (['fixed-subset', 'fresh-subset'] as const).map((mode) => ({
    name: `ablation-${mode}` as const,
    method: `simclr-${mode}-linear` as Method,
    config: { ...preset.pretrain, epochs: preset.ablation!.epochs, sampling: { mode, fraction: preset.ablation!.fraction } } as PretrainConfig,
    encoderDir: path.join(runsDir, `ablation-${mode}`, 'encoder'),
  }));

  const record = (method: Method, config: SupervisedConfig, identity: string, runDir: string, result: SupervisedResult, name: string): RunRecord => ({
    method,
    labelPct: pctOf(config.labelFraction),
    seed: config.seed,
    preset: preset.name,
    testAccuracy: result.test.accuracy,
    macroPrecision: result.test.macroPrecision,
    macroRecall: result.test.macroRecall,
    macroF1: result.test.macroF1,
    perClassF1: result.test.perClass.map((c) => c.f1),
    confusion: result.test.confusion,
    valAccuracy: result.valAccuracy,
    convergenceEpoch: result.convergenceEpoch,
    selectedEpoch: result.loop.selectedEpoch,
    epochsRun: result.loop.epochsRun,
    wallSeconds: result.loop.wallSeconds,
    imagesPerSecond: result.loop.imagesPerSecond,
    backend,
    configHash: identity,
    runDir: archiveRun(runDir, name),
    dataFingerprint: fingerprint,
  });

  /** `encoderHash`: configuration hash of the pretraining run whose encoder `config.init` names. */
  const supervisedRun = async (method: Method, config: SupervisedConfig, featureCache?: () => FeatureCache, encoderHash?: string): Promise<void> => {
    const pct = pctOf(config.labelFraction);
    const identity = supervisedRunHash(config, encoderHash);
    if (store.find(method, pct, config.seed, identity)) {
      log(`== ${method} ${pct}% seed ${config.seed}: already recorded, skipped`);
      return;
    }
    const name = `${method}-${pct}pct-seed${config.seed}`;
    log(`== ${name}`);
    const runDir = path.join(runsDir, name);
    const result = await trainSupervised(config, data, { runDir, resume: true, hooks: options.hooks(name), stop: options.stop, featureCache: featureCache?.(), encoderHash });
    store.put(record(method, config, identity, runDir, result, name));
    countExecuted();
    log(`   test accuracy ${(100 * result.test.accuracy).toFixed(2)}%  (best validation ${(100 * result.valAccuracy).toFixed(2)}%, epoch ${result.loop.selectedEpoch})`);
  };

  /** Features of a frozen encoder, extracted on first use and shared by its probes. */
  const lazyFeatures = (encoderFactory: () => Encoder): LazyFeatures => {
    let cache: FeatureCache | null = null;
    const features = () => {
      if (!cache) {
        const encoder = encoderFactory();
        cache = computeFeatureCache(encoder, data);
        encoder.dispose();
      }
      return cache;
    };
    return Object.assign(features, { encoder: encoderFactory, extracted: () => cache });
  };
  const loadEncoder = (dir: string) => () => initialEncoder({ ...preset.probe, init: dir }, new Rng(0));
  const sslFeatures = lazyFeatures(loadEncoder(encoderDir));

  const pretraining = async (): Promise<string> => {
    await runPretraining('pretrain', preset.pretrain);
    for (const run of ablationRuns) await runPretraining(run.name, run.config);
    return encoderDir;
  };

  // 3. kNN and linear probe of the SSL encoder.
  const probes = async (): Promise<void> => {
  for (const pct of preset.labelPcts) {
    for (const seed of preset.probeSeeds) {
      const labelled = data.splits.labelled(pct / 100, seed);
      const knnHash = configHash({ knn: preset.pretrain.knn, encoder: pretrainHash, pct, seed });
      if (!store.find('simclr-knn', pct, seed, knnHash)) {
        const start = Date.now();
        const report = knnTestReport(sslFeatures(), data, labelled, preset.pretrain.knn);
        store.put({
          method: 'simclr-knn', labelPct: pct, seed, preset: preset.name, testAccuracy: report.accuracy,
          macroPrecision: report.macroPrecision, macroRecall: report.macroRecall, macroF1: report.macroF1,
          perClassF1: report.perClass.map((c) => c.f1), confusion: report.confusion, valAccuracy: NaN,
          convergenceEpoch: null, selectedEpoch: null, epochsRun: 0, wallSeconds: (Date.now() - start) / 1000,
          imagesPerSecond: 0, backend, configHash: knnHash, runDir: '', dataFingerprint: fingerprint,
        });
        countExecuted();
        log(`== simclr-knn ${pct}% seed ${seed}: test accuracy ${(100 * report.accuracy).toFixed(2)}%`);
      }
      await supervisedRun('simclr-linear', { ...preset.probe, init: encoderDir, labelFraction: pct / 100, seed }, sslFeatures, pretrainHash);
    }
  }
  for (const run of ablationRuns) {
    await supervisedRun(run.method, { ...preset.probe, init: run.encoderDir, labelFraction: 1, seed: preset.probeSeeds[0] }, lazyFeatures(loadEncoder(run.encoderDir)), configHash(run.config));
  }
  };

  // 4. Fine-tuning.
  const fineTuning = async (): Promise<void> => {
    for (const pct of preset.labelPcts) {
      for (const seed of preset.trainSeeds) {
        await supervisedRun('simclr-finetune', { ...preset.finetune, init: encoderDir, labelFraction: pct / 100, seed }, undefined, pretrainHash);
      }
    }
  };

  // 5. The same architecture and the basic CNN from scratch.
  const baselines = async (): Promise<void> => {
    for (const pct of preset.labelPcts) {
      for (const seed of preset.trainSeeds) {
        await supervisedRun('supervised-resnet', { ...preset.scratch, labelFraction: pct / 100, seed });
        if (pct === 100 || preset.basicCnnAtAllPcts) {
          await supervisedRun('supervised-cnn', { ...preset.basicCnn, labelFraction: pct / 100, seed });
        }
      }
    }
  };

  // 6. The floor: a linear probe of a randomly initialised encoder.
  const randomFeatures = lazyFeatures(() => makeEncoder(preset.pretrain.encoder, new Rng(mixSeed(preset.probeSeeds[0], 0x5eed))));
  const randomFloor = async (): Promise<void> => {
    for (const pct of preset.labelPcts) {
      await supervisedRun('random-linear', { ...preset.probe, init: 'scratch', labelFraction: pct / 100, seed: preset.probeSeeds[0] }, randomFeatures);
    }
  };

  const finish = (): void => {
  writeEmbeddings(path.join(resultsDir, 'embeddings.json'), data, [
    { title: 'SimCLR encoder', features: sslFeatures },
    { title: 'random encoder', features: randomFeatures },
  ]);
  writeStudyMeta(true);
  };

  return { pretraining, probes, fineTuning, baselines, randomFloor, finish, resultsDir, records: () => store.all() };
}

/** Test images kept for the projection figure (class-balanced: the first of each class in test order). */
const EMBEDDING_IMAGES_PER_CLASS = 100;

/** Stored test features of some encoders, base64 float32 rows, for the 2-D projection figure. */
export interface StoredEmbeddings {
  rows: number[];
  labels: number[];
  panels: Array<{ title: string; dim: number; features: string }>;
}

/** A frozen encoder's feature cache, extracted on its first call; `extracted` peeks without extracting. */
type LazyFeatures = (() => FeatureCache) & { encoder: () => Encoder; extracted: () => FeatureCache | null };

/**
 * The test features of the embedding rows of each panel: from its feature cache where the probes
 * already extracted it, else from its encoder for those rows alone (a notebook that only writes
 * the figure's data would otherwise extract every training and test image, minutes on a CPU, to
 * keep a thousand).
 */
function writeEmbeddings(file: string, data: RunContext['data'], panels: Array<{ title: string; features: LazyFeatures }>): void {
  const { test } = data.dataset;
  const perClass = new Map<number, number>();
  const rows = [...data.splits.test].filter((row) => {
    const seen = perClass.get(test.labels[row]) ?? 0;
    perClass.set(test.labels[row], seen + 1);
    return seen < EMBEDDING_IMAGES_PER_CLASS;
  });
  const stored: StoredEmbeddings = {
    rows,
    labels: rows.map((row) => test.labels[row]),
    panels: panels.map(({ title, features: lazy }) => {
      const cache = lazy.extracted();
      let extracted: { features: Float32Array; dim: number };
      if (cache) {
        extracted = { features: gatherFeatures(cache.test, cache.dim, rows), dim: cache.dim };
      } else {
        const encoder = lazy.encoder();
        try {
          extracted = extractFeatures(encoder, test, Int32Array.from(rows), FEATURE_BATCH);
        } finally {
          encoder.dispose();
        }
      }
      const { features, dim } = extracted;
      return { title, dim, features: Buffer.from(features.buffer, features.byteOffset, features.byteLength).toString('base64') };
    }),
  };
  writeJsonAtomic(file, stored);
}
