import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configHash } from '../config/hash';
import { type StudyPreset, validatePreset } from '../config/presets';
import type { PretrainConfig, SupervisedConfig } from '../config/types';
import { type FeatureCache, computeFeatureCache, FEATURE_BATCH, gatherFeatures } from '../eval/feature-cache';
import { extractFeatures } from '../eval/features';
import { makeEncoder } from '../models/make-encoder';
import type { Encoder } from '../models/types';
import type { LoopHooks } from '../train/loop';
import { checkpointEncoderDir, pretrain } from '../train/pretrain';
import { type SupervisedResult, initialEncoder, supervisedRunHash, trainSupervised } from '../train/supervised';
import { writeJsonAtomic } from '../util/atomic-write';
import { packBits } from '../util/bitset';
import { Rng, mixSeed } from '../util/random';
import type { RunContext } from './context';
import { KNN_K_GRID, knnTestReport } from './knn-eval';
import { ABLATION_ARMS, type Method, type RunRecord } from './records';
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
  /** 'pretrain', or `ablation-<mode>-seed<seed>` */
  name: string;
  seed: number;
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

/** The fine-tuning learning-rate search at one label budget: every grid point's best validation accuracy and the choice. */
export interface LrSearch {
  labelPct: number;
  seed: number;
  grid: Array<{ learningRate: number; valAccuracy: number }>;
  chosen: number;
  /** run identities (`supervisedRunHash`) of the grid's runs: a search made under other settings is redone */
  identities: string[];
}

const pctOf = (fraction: number): number => Math.round(fraction * 10000) / 100;

/** The steps of the study; each can run alone (a notebook runs one or two), in this order. */
export interface Study {
  /** 2. SimCLR pretraining (saving encoders part-way) and the dynamic-sampling ablation; returns the main encoder's folder */
  pretraining(): Promise<string>;
  /** 3. kNN and linear probe of the SSL encoder at every label percentage, of its part-way checkpoints and of the ablation encoders */
  probes(): Promise<void>;
  /** 4. fine-tuning (learning rate chosen on validation) and LP-FT of the SSL encoder */
  fineTuning(): Promise<void>;
  /** 5. the same architecture and the basic CNN trained from scratch, and the compute-matched scratch run */
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
 * kNN and linear probes of the SSL encoder at every label percentage; fine-tuning and LP-FT; the
 * same architecture and the basic CNN from scratch; a linear probe of a random encoder. Each
 * finished run leaves one record in results/<preset>/; runs already recorded under the same
 * configuration are skipped and interrupted ones resume from their checkpoints in runs/<preset>/,
 * so a study that does not fit one session continues in the next.
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

/** Pretraining epochs after which the encoder is saved: each fraction of `epochs`, rounded, at least 1, before the last. */
export function checkpointEpochs(epochs: number, fractions: number[]): number[] {
  return [...new Set(fractions.map((f) => Math.max(1, Math.round(f * epochs))))].filter((e) => e < epochs).sort((a, b) => a - b);
}

/**
 * Images the compute-matched scratch run trains on: SimCLR pretraining's forward+backward image
 * passes (two views per image, every step) plus the images whose features the 100 % probe
 * extracted (labelled and validation; forward only, counted as full passes, which favours the
 * scratch run).
 */
export function computeMatchedImages(pretrain: PretrainConfig, poolSize: number, validationSize: number): number {
  const perEpoch = pretrain.sampling.mode === 'all' ? poolSize : Math.max(1, Math.round(pretrain.sampling.fraction * poolSize));
  const steps = pretrain.epochs * Math.floor(perEpoch / pretrain.batchSize);
  return 2 * steps * pretrain.batchSize + poolSize + validationSize;
}

export function createStudy(options: StudyOptions): Study {
  const { preset, context, log } = options;
  validatePreset(preset);
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
  const runPretraining = async (name: string, config: PretrainConfig, saveEncoderAt: number[] = []): Promise<string> => {
    const runDir = path.join(runsDir, name);
    log(`== ${name}: ${config.epochs} epochs, sampling ${config.sampling.mode} (${config.sampling.fraction}), seed ${config.seed}, encoder ${config.encoder.kind} width ${config.encoder.width}`);
    const before = fs.existsSync(path.join(runDir, 'encoder', 'manifest.json'));
    const result = await pretrain(config, data, { runDir, resume: true, hooks: options.hooks(name), stop: options.stop, saveEncoderAt });
    if (!before) countExecuted();
    result.encoder.dispose();
    const last = result.loop.history.epochs[result.loop.history.epochs.length - 1];
    const index = pretrainings.findIndex((p) => p.name === name);
    if (index >= 0) pretrainings.splice(index, 1);
    pretrainings.push({
      name, seed: config.seed, runDir: archiveRun(runDir, name), sampling: config.sampling, epochs: result.loop.epochsRun,
      steps: result.loop.steps, wallSeconds: result.loop.wallSeconds, imagesPerSecond: result.loop.imagesPerSecond,
      finalKnnAccuracy: last?.knnAccuracy ?? null, configHash: configHash(config),
    });
    writeJsonAtomic(pretrainingsFile, pretrainings);
    return result.encoderDir;
  };
  const mainRunDir = path.join(runsDir, 'pretrain');
  const encoderDir = path.join(mainRunDir, 'encoder');
  const pretrainHash = configHash(preset.pretrain);
  const savedEpochs = checkpointEpochs(preset.pretrain.epochs, preset.checkpointFractions);
  const ablation = preset.ablation;
  const ablationRuns = ablation === null ? [] : ABLATION_ARMS.flatMap(({ mode, method }) => ablation.seeds.map((seed) => {
    const name = `ablation-${mode}-seed${seed}`;
    return {
      name, method: method as Method, seed,
      config: { ...preset.pretrain, epochs: ablation.epochs, seed, sampling: { mode, fraction: ablation.fraction } } as PretrainConfig,
      encoderDir: path.join(runsDir, name, 'encoder'),
    };
  }));

  const record = (method: Method, config: SupervisedConfig, identity: string, runDir: string, result: SupervisedResult, name: string, extra: Partial<RunRecord>): RunRecord => ({
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
    selectedEpoch: result.loop.selectedEpoch,
    epochsRun: result.loop.epochsRun,
    realEpochs: result.realEpochs,
    epochsToBest: result.epochsToBest,
    steps: result.loop.steps,
    imagesSeen: result.loop.imagesSeen,
    plateau: result.plateau,
    labelledCount: result.labelledCount,
    wallSeconds: result.loop.wallSeconds,
    imagesPerSecond: result.loop.imagesPerSecond,
    testCorrect: packBits(result.testCorrect),
    backend,
    configHash: identity,
    runDir: archiveRun(runDir, name),
    dataFingerprint: fingerprint,
    ...extra,
  });

  interface SupervisedRunSpec {
    method: Method;
    config: SupervisedConfig;
    featureCache?: () => FeatureCache;
    /** configuration hash of what `config.init` (and `config.classifierInit`) were trained with */
    encoderHash?: string;
    /** run folder name under runs/<preset> (default `<method>-<pct>pct-seed<seed>`) */
    name?: string;
    extra?: Partial<RunRecord>;
    /** train (or resume) without recording: the learning-rate search */
    unrecorded?: boolean;
  }

  /** Trains (or resumes, or skips when recorded) one supervised run; returns its best validation accuracy. */
  const supervisedRun = async (spec: SupervisedRunSpec): Promise<number> => {
    const { method, config } = spec;
    const pct = pctOf(config.labelFraction);
    const identity = supervisedRunHash(config, spec.encoderHash);
    const found = spec.unrecorded ? undefined : store.find(method, pct, spec.extra?.seed ?? config.seed, identity, spec.extra?.pretrainEpoch);
    if (found) {
      log(`== ${method} ${pct}% seed ${config.seed}: already recorded, skipped`);
      return found.valAccuracy;
    }
    const name = spec.name ?? `${method}-${pct}pct-seed${config.seed}`;
    log(`== ${name}`);
    const runDir = path.join(runsDir, name);
    const result = await trainSupervised(config, data, { runDir, resume: true, hooks: options.hooks(name), stop: options.stop, featureCache: spec.featureCache?.(), encoderHash: spec.encoderHash });
    countExecuted();
    if (!spec.unrecorded) {
      store.put(record(method, config, identity, runDir, result, name, spec.extra ?? {}));
      log(`   test accuracy ${(100 * result.test.accuracy).toFixed(2)}%  (best validation ${(100 * result.valAccuracy).toFixed(2)}% after ${result.epochsToBest} of ${result.realEpochs} real epochs, ${result.loop.steps} steps${result.plateau === false ? ', no plateau' : ''})`);
    } else {
      log(`   best validation ${(100 * result.valAccuracy).toFixed(2)}%`);
    }
    return result.valAccuracy;
  };

  /** Features of a frozen encoder, extracted on first use and shared by its probes; `rows` limits the training rows extracted. */
  const lazyFeatures = (encoderFactory: () => Encoder, rows?: () => Int32Array): LazyFeatures => {
    let cache: FeatureCache | null = null;
    const features = () => {
      if (!cache) {
        const encoder = encoderFactory();
        cache = computeFeatureCache(encoder, data, rows?.());
        encoder.dispose();
      }
      return cache;
    };
    return Object.assign(features, { encoder: encoderFactory, extracted: () => cache });
  };
  const loadEncoder = (dir: string) => () => initialEncoder({ ...preset.probe, init: dir }, new Rng(0));
  const sslFeatures = lazyFeatures(loadEncoder(encoderDir));
  const probeName = (pct: number, seed: number): string => `simclr-linear-${pct}pct-seed${seed}`;
  const probeConfig = (pct: number, seed: number): SupervisedConfig => ({ ...preset.probe, init: encoderDir, labelFraction: pct / 100, seed });

  const pretraining = async (): Promise<string> => {
    await runPretraining('pretrain', preset.pretrain, savedEpochs);
    for (const run of ablationRuns) await runPretraining(run.name, run.config);
    return encoderDir;
  };

  // 3. kNN and linear probe of the SSL encoder, its part-way checkpoints and the ablation encoders.
  const probes = async (): Promise<void> => {
    for (const pct of preset.labelPcts) {
      for (const seed of preset.probeSeeds) {
        const labelled = data.splits.labelled(pct / 100, seed);
        const knnHash = configHash({ knn: preset.pretrain.knn.temperature, grid: KNN_K_GRID, encoder: pretrainHash, pct, seed });
        if (!store.find('simclr-knn', pct, seed, knnHash)) {
          const start = Date.now();
          const knn = knnTestReport(sslFeatures(), data, labelled, preset.pretrain.knn);
          const { report } = knn;
          store.put({
            method: 'simclr-knn', labelPct: pct, seed, preset: preset.name, testAccuracy: report.accuracy,
            macroPrecision: report.macroPrecision, macroRecall: report.macroRecall, macroF1: report.macroF1,
            perClassF1: report.perClass.map((c) => c.f1), confusion: report.confusion, valAccuracy: knn.valAccuracy,
            selectedEpoch: null, epochsRun: 0, realEpochs: 0, epochsToBest: null, steps: 0, imagesSeen: 0, plateau: null,
            labelledCount: labelled.length, wallSeconds: (Date.now() - start) / 1000, imagesPerSecond: 0,
            testCorrect: packBits(knn.correct), choice: { k: knn.k, kGrid: knn.grid },
            backend, configHash: knnHash, runDir: '', dataFingerprint: fingerprint,
          });
          countExecuted();
          log(`== simclr-knn ${pct}% seed ${seed}: k = ${knn.k} (validation), test accuracy ${(100 * report.accuracy).toFixed(2)}%`);
        }
        await supervisedRun({ method: 'simclr-linear', config: probeConfig(pct, seed), featureCache: sslFeatures, encoderHash: pretrainHash, name: probeName(pct, seed) });
      }
    }
    for (const epoch of savedEpochs) {
      const dir = checkpointEncoderDir(mainRunDir, epoch);
      const features = lazyFeatures(loadEncoder(dir));
      for (const pct of preset.checkpointLabelPcts) {
        await supervisedRun({
          method: 'simclr-checkpoint-linear', config: { ...preset.probe, init: dir, labelFraction: pct / 100, seed: preset.probeSeeds[0] },
          featureCache: features, encoderHash: configHash({ pretrain: pretrainHash, epoch }),
          name: `simclr-checkpoint-epoch${epoch}-linear-${pct}pct-seed${preset.probeSeeds[0]}`, extra: { pretrainEpoch: epoch },
        });
      }
    }
    if (ablation) {
      // Each arm is scored by a probe at the ablation's label budget; only those rows are extracted.
      const labelled = data.splits.labelled(ablation.labelPct / 100, preset.probeSeeds[0]);
      const rows = () => Int32Array.from(new Set([...labelled, ...data.splits.validation])).sort();
      for (const run of ablationRuns) {
        await supervisedRun({
          method: run.method, config: { ...preset.probe, init: run.encoderDir, labelFraction: ablation.labelPct / 100, seed: preset.probeSeeds[0] },
          featureCache: lazyFeatures(loadEncoder(run.encoderDir), rows), encoderHash: configHash(run.config),
          name: `${run.name}-linear`, extra: { seed: run.seed },
        });
      }
    }
  };

  // 4. Fine-tuning, its learning rate chosen on validation, and LP-FT.
  const lrSearchFile = path.join(resultsDir, 'lr-search.json');
  const lrSearches: LrSearch[] = fs.existsSync(lrSearchFile) ? (JSON.parse(fs.readFileSync(lrSearchFile, 'utf8')) as LrSearch[]) : [];
  const lrRunName = (pct: number, seed: number, lr: number): string => `simclr-finetune-${pct}pct-seed${seed}-lr${lr}`;
  const finetuneConfig = (pct: number, seed: number, lr: number): SupervisedConfig =>
    ({ ...preset.finetune, init: encoderDir, labelFraction: pct / 100, seed, optimizer: { ...preset.finetune.optimizer, learningRate: lr } });
  const fineTuning = async (): Promise<void> => {
    const searchSeed = preset.trainSeeds[0];
    const searched = new Map<number, LrSearch>();
    for (const pct of preset.finetuneLrSearchPcts) {
      const identities = preset.finetuneLrGrid.map((lr) => supervisedRunHash(finetuneConfig(pct, searchSeed, lr), pretrainHash));
      const done = lrSearches.find((s) => s.labelPct === pct && s.seed === searchSeed && s.identities?.join() === identities.join());
      if (done) {
        searched.set(pct, done);
        log(`== fine-tuning learning rate at ${pct}% labels: ${done.chosen}, searched before`);
        continue;
      }
      const grid: LrSearch['grid'] = [];
      for (const lr of preset.finetuneLrGrid) {
        const valAccuracy = await supervisedRun({ method: 'simclr-finetune', config: finetuneConfig(pct, searchSeed, lr), encoderHash: pretrainHash, name: lrRunName(pct, searchSeed, lr), unrecorded: true });
        grid.push({ learningRate: lr, valAccuracy });
      }
      const chosen = [...grid].sort((a, b) => b.valAccuracy - a.valAccuracy || b.learningRate - a.learningRate)[0].learningRate;
      const search: LrSearch = { labelPct: pct, seed: searchSeed, grid, chosen, identities };
      searched.set(pct, search);
      const index = lrSearches.findIndex((s) => s.labelPct === pct);
      if (index >= 0) lrSearches.splice(index, 1);
      lrSearches.push(search);
      writeJsonAtomic(lrSearchFile, lrSearches);
      log(`== fine-tuning learning rate at ${pct}% labels: ${chosen} (validation ${grid.map((g) => `${g.learningRate}: ${(100 * g.valAccuracy).toFixed(1)}%`).join(', ')})`);
    }
    const nearest = (pct: number): LrSearch => [...searched.values()].sort((a, b) => Math.abs(Math.log(a.labelPct / pct)) - Math.abs(Math.log(b.labelPct / pct)))[0];
    for (const pct of preset.trainLabelPcts) {
      const search = nearest(pct);
      const choice = { learningRate: search.chosen, lrGrid: search.grid };
      for (const seed of preset.trainSeeds) {
        // The search's run at the chosen rate is this seed's run when it was made at this budget: resumed, not retrained.
        const reuse = seed === search.seed && pct === search.labelPct;
        await supervisedRun({ method: 'simclr-finetune', config: finetuneConfig(pct, seed, search.chosen), encoderHash: pretrainHash, name: reuse ? lrRunName(pct, seed, search.chosen) : undefined, extra: { choice } });
      }
      for (const seed of preset.trainSeeds) {
        const head = path.join(runsDir, probeName(pct, seed), 'head.json');
        if (!fs.existsSync(head)) {
          // the probe was recorded by an earlier session whose run folder is gone: train it again for its head
          await trainSupervised(probeConfig(pct, seed), data, { runDir: path.join(runsDir, probeName(pct, seed)), resume: true, featureCache: sslFeatures(), encoderHash: pretrainHash });
        }
        const probeHash = supervisedRunHash(probeConfig(pct, seed), pretrainHash);
        await supervisedRun({
          method: 'simclr-lpft', config: { ...finetuneConfig(pct, seed, search.chosen), classifierInit: head },
          encoderHash: configHash({ encoder: pretrainHash, probe: probeHash }), extra: { choice },
        });
      }
    }
  };

  // 5. The same architecture and the basic CNN from scratch; the compute-matched scratch run.
  const baselines = async (): Promise<void> => {
    for (const pct of preset.trainLabelPcts) {
      for (const seed of preset.trainSeeds) {
        await supervisedRun({ method: 'supervised-resnet', config: { ...preset.scratch, labelFraction: pct / 100, seed } });
        if (pct === 100 || preset.basicCnnAtAllPcts) {
          await supervisedRun({ method: 'supervised-cnn', config: { ...preset.basicCnn, labelFraction: pct / 100, seed } });
        }
      }
    }
    if (preset.computeMatched) {
      const images = computeMatchedImages(preset.pretrain, data.splits.trainPool.length, data.splits.validation.length);
      for (const seed of preset.trainSeeds) {
        // the whole budget is spent (no early stopping); the best-validation weights are still kept
        await supervisedRun({
          method: 'supervised-resnet-matched',
          config: { ...preset.scratch, labelFraction: 1, seed, epochs: 1, minSteps: Math.ceil(images / preset.scratch.batchSize), earlyStopping: { patience: 0, minDelta: 0 } },
        });
      }
    }
  };

  // 6. The floor: a linear probe of a randomly initialised encoder.
  const randomFeatures = lazyFeatures(() => makeEncoder(preset.pretrain.encoder, new Rng(mixSeed(preset.probeSeeds[0], 0x5eed))));
  const randomFloor = async (): Promise<void> => {
    for (const pct of preset.labelPcts) {
      await supervisedRun({ method: 'random-linear', config: { ...preset.probe, init: 'scratch', labelFraction: pct / 100, seed: preset.probeSeeds[0] }, featureCache: randomFeatures });
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
