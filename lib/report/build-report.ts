import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { simclrPairsPreview } from '../augment/preview';
import type { SimclrAugmentConfig } from '../config/types';
import { gatherBatch } from '../data/batches';
import type { StoredEmbeddings } from '../experiments/study';
import { Rng } from '../util/random';
import { getPreset, PRESET_NAMES } from '../config/presets';
import { DEFAULT_CLASS_NAMES } from '../data/cifar-format';
import type { CifarDataset } from '../data/load';
import type { Method, RunRecord } from '../experiments/records';
import { readStudyMeta } from '../experiments/study-meta';
import { FigureWriter, type WrittenFigure } from './figure-writer';
import {
  accuracyVsLabelsFigure, accuracyVsWallTimeFigure, augmentationPairsFigure, checkpointFigure, convergenceFigure, type ConvergenceCurve, confusionFigure, datasetSamplesFigure, GAIN_BASELINE, GAIN_METHODS,
  learningRateFigure, pretrainingCurvesFigure, sslGainFigure, sumConfusions, trainingLossFigure,
  validationCurvesFigure, type CurveRun, type ImageBatch,
} from './figures/index';
import { projectionFigure, type FeaturePanel } from './figures/projection';
import type { Figure } from './plotly-types';
import { renderHeadlineSection, renderResultsSection, sectionMarkers, updateReadme, type FigureLink, type ResultsMeta } from './readme';
import { renderPresetsSection } from './presets-section';
import { loadReportInputs, type ReportInputs } from './run-data';
import { groupRecords, labelPercents, summarise, type RecordGroup } from './stats';
import { CONVERGENCE_TARGET, ablationTable, convergenceTargetOf, checkpointTable, convergenceTable, curvePoints, encoderSize, encodersTable, lrSearchTable, speedTable } from './study-tables';
import { METHOD_STYLES } from './style';
import { comparisonTable, mainRecords, metricsTable, summaryTable, writeTableCsv, type ComparisonContext, type Table } from './tables';
import type { LrSearch } from '../experiments/study';

export interface ReportOptions {
  preset: string;
  /** records and histories are read from `<resultsRoot>/<preset>`; CSV tables are written there */
  resultsRoot: string;
  /** figures go to `<figuresDir>/<preset>` (HTML, PNG and one plotly.min.js) */
  figuresDir: string;
  /**
   * README: gets the presets table, the headline section (`headline-<preset>` markers) and the full
   * results section where it carries their markers; null leaves it alone
   */
  readme: string | null;
  /** document of the full per-preset results sections (`results-<preset>` markers, e.g. docs/results.md); null or absent: none */
  resultsDoc?: string | null;
  png: boolean;
  /** the loaded data, when at hand: adds a figure of sample training images */
  data?: { dataset: CifarDataset };
  /** project root that relative run folders are resolved against (default: the working folder) */
  root?: string;
  log?: (line: string) => void;
}

export interface ReportOutput {
  figures: Array<WrittenFigure & { name: string; title: string }>;
  /** CSV files written next to the records */
  tables: string[];
  /** the full results section, as written (links relative to the document that holds it) */
  markdown: string;
}

/** A record's run as a curve, named by method, label % and seed. */
function recordRun(record: RunRecord, inputs: ReportInputs): CurveRun | null {
  const history = inputs.histories.get(record.runDir);
  if (!history) return null;
  return {
    name: `${record.method} ${record.labelPct}% seed ${record.seed}`, method: record.method,
    labelPct: record.labelPct, epochs: history.epochs, stepLearningRates: history.stepLearningRates,
  };
}

/**
 * The convergence figure's curves (first seed of each trained method and label %) and each label
 * budget's target (`convergenceTargetOf`).
 */
export function convergenceCurves(records: RunRecord[], histories: ReportInputs['histories']): { curves: ConvergenceCurve[]; targets: Map<number, number> } {
  const trained = mainRecords(records).filter((r) => r.steps > 0 && histories.has(r.runDir));
  const targets = new Map<number, number>();
  const curves: ConvergenceCurve[] = [];
  for (const pct of labelPercents(trained)) {
    const groups = groupRecords(trained.filter((r) => r.labelPct === pct));
    targets.set(pct, convergenceTargetOf(groups));
    for (const g of groups) {
      const first = [...g.records].sort((a, b) => a.seed - b.seed)[0];
      curves.push({ method: g.method, labelPct: pct, seed: first.seed, points: curvePoints(histories.get(first.runDir)!) });
    }
  }
  return { curves, targets };
}

/** Probe accuracies of the pretraining checkpoints and of the final encoder (same probe seed), for the checkpoint figure. */
function checkpointPoints(records: RunRecord[], pretraining: ReportInputs['pretraining']): Array<{ epoch: number; labelPct: number; accuracy: number }> {
  const checkpoints = records.filter((r) => r.method === 'simclr-checkpoint-linear');
  if (checkpoints.length === 0) return [];
  const seed = checkpoints[0].seed;
  const finalEpoch = pretraining.find((p) => p.name === 'pretrain')?.epochs;
  const pcts = new Set(checkpoints.map((r) => r.labelPct));
  const finals = finalEpoch === undefined ? [] : records.filter((r) => r.method === 'simclr-linear' && r.seed === seed && pcts.has(r.labelPct))
    .map((r) => ({ epoch: finalEpoch, labelPct: r.labelPct, accuracy: r.testAccuracy }));
  return [...checkpoints.map((r) => ({ epoch: r.pretrainEpoch ?? 0, labelPct: r.labelPct, accuracy: r.testAccuracy })), ...finals];
}

/** The (method, label %) whose confusion matrix the report shows: the SimCLR probe at most labels, else the best mean. */
function confusionGroup(records: RunRecord[]): RecordGroup | undefined {
  const groups = groupRecords(records.filter((r) => r.confusion.length > 0));
  const probe = groups.filter((g) => g.method === 'simclr-linear').sort((a, b) => b.labelPct - a.labelPct)[0];
  if (probe) return probe;
  const mean = (g: RecordGroup): number => summarise(g.records.map((r) => r.testAccuracy)).mean;
  return [...groups].sort((a, b) => mean(b) - mean(a))[0];
}

/** Every figure the records support, in README order, named for their files. */
export function reportFigures(inputs: ReportInputs, classNames: string[], dataset?: CifarDataset): Array<{ name: string; figure: Figure }> {
  const { records } = inputs;
  const main = mainRecords(records);
  const figures: Array<{ name: string; figure: Figure }> = [
    { name: 'accuracy-vs-labels', figure: accuracyVsLabelsFigure(main) },
  ];
  const methods = new Set(records.map((r) => r.method));
  if (methods.has(GAIN_BASELINE) && GAIN_METHODS.some((m) => methods.has(m))) {
    figures.push({ name: 'ssl-gain', figure: sslGainFigure(main) });
  }
  const convergence = convergenceCurves(records, inputs.histories);
  if (convergence.curves.length > 0) {
    figures.push({ name: 'convergence', figure: convergenceFigure(convergence.curves, convergence.targets) });
  }
  if (main.length > 0) figures.push({ name: 'accuracy-vs-wall-time', figure: accuracyVsWallTimeFigure(main) });
  const checkpoints = checkpointPoints(records, inputs.pretraining);
  if (checkpoints.length > 0) {
    figures.push({ name: 'pretraining-checkpoints', figure: checkpointFigure(checkpoints, 'published, all labels: ResNet-18 about 83–86 % at 100 epochs and 88–89 % at 1000 (approximate reproductions)') });
  }
  const group = confusionGroup(records);
  if (group) {
    const title = `Confusion matrix: ${METHOD_STYLES[group.method].label}, ${group.labelPct}% labels (${group.records.length} seeds summed)`;
    figures.push({ name: 'confusion', figure: confusionFigure(sumConfusions(group.records.map((r) => r.confusion)), classNames, title) });
  }
  const pretrainRuns: CurveRun[] = inputs.pretraining.flatMap((p) => {
    const history = inputs.histories.get(p.runDir);
    return history ? [{ name: p.name, epochs: history.epochs, stepLearningRates: history.stepLearningRates }] : [];
  });
  // The encoder's feature dimension sets the collapse panel's reference level; the stored
  // embeddings carry it.
  const embeddings = readEmbeddings(path.join(inputs.resultsDir, 'embeddings.json'));
  const featureDim = embeddings?.[0]?.dim;
  if (pretrainRuns.length > 0) figures.push({ name: 'pretraining', figure: pretrainingCurvesFigure(pretrainRuns, featureDim) });
  // one seed per (method, label %): the curves of every seed would bury each other
  const runs = groupRecords(main).map((g) => recordRun([...g.records].sort((a, b) => a.seed - b.seed)[0], inputs)).filter((r): r is CurveRun => r !== null);
  if (runs.some((r) => r.epochs.some((e) => e.valAccuracy !== undefined))) {
    figures.push({ name: 'validation-curves', figure: validationCurvesFigure(runs) });
  }
  if (runs.length > 0) figures.push({ name: 'training-loss', figure: trainingLossFigure(runs) });
  // One schedule per protocol is enough: the first seed of each method at its largest label %
  // (groups come sorted by method, then label % descending).
  const shown = new Set<Method>();
  const firstOfEach: CurveRun[] = [];
  for (const g of groupRecords(main.filter((r) => inputs.histories.has(r.runDir)))) {
    if (shown.has(g.method)) continue;
    shown.add(g.method);
    const run = recordRun([...g.records].sort((a, b) => a.seed - b.seed)[0], inputs);
    if (run) firstOfEach.push(run);
  }
  const schedules = [...pretrainRuns, ...firstOfEach].filter((r) => (r.stepLearningRates ?? []).length > 0);
  if (schedules.length > 0) figures.push({ name: 'learning-rates', figure: learningRateFigure(schedules) });
  if (dataset) {
    const images: ImageBatch = { pixels: dataset.train.images, height: 32, width: 32, channels: 3 };
    figures.push({ name: 'dataset-samples', figure: datasetSamplesFigure(images, dataset.train.labels, dataset.classNames) });
    if ((PRESET_NAMES as string[]).includes(inputs.preset)) {
      figures.push({ name: 'augmentation-pairs', figure: augmentationPairs(dataset, getPreset(inputs.preset).pretrain.augment) });
    }
  }
  if (embeddings) figures.push({ name: 'projection', figure: projectionFigure(embeddings, classNames) });
  return figures;
}

/** Two SimCLR views of one training image per class, drawn as in training (seed 0). */
export function augmentationPairs(dataset: CifarDataset, augment: SimclrAugmentConfig): Figure {
  const rows: number[] = [];
  for (let c = 0; c < dataset.classNames.length; c++) {
    const row = dataset.train.labels.indexOf(c);
    if (row >= 0 && rows.length < 6) rows.push(row);
  }
  const x = gatherBatch(dataset.train, rows).x;
  try {
    const { originals, views1, views2 } = simclrPairsPreview(x, augment, new Rng(0));
    return augmentationPairsFigure(views1, views2, originals);
  } finally {
    tf.dispose(x);
  }
}

/** The stored test features of the study's encoders (`embeddings.json`), or null when there are none. */
export function readEmbeddings(file: string): FeaturePanel[] | null {
  if (!fs.existsSync(file)) return null;
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredEmbeddings;
  return stored.panels.map((panel) => {
    const bytes = Buffer.from(panel.features, 'base64');
    const features = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { title: panel.title, dim: panel.dim, features, labels: stored.labels };
  });
}

/** Encoder and batch sizes of a named preset, for the comparison table; empty for an unknown name. */
export function presetContext(preset: string): Omit<ComparisonContext, 'preset' | 'pretrainEpochs'> {
  if (!(PRESET_NAMES as string[]).includes(preset)) return {};
  const p = getPreset(preset);
  const { kind, width, blocksPerStage } = p.pretrain.encoder;
  const encoder = kind === 'resnet'
    ? `ResNet, width ${width}, blocks per stage ${blocksPerStage.join('-')}`
    : `basic CNN, width ${width}`;
  return { encoder, pretrainBatch: p.pretrain.batchSize, supervisedBatch: p.scratch.batchSize };
}

/** A table of the report besides the three main ones: its heading, a note on how to read it, its CSV file. */
export interface StudyTable {
  title: string;
  note: string;
  file: string;
  table: Table;
}

/** The tables of the convergence, cost, ablation, checkpoint and learning-rate questions, each where the records support it. */
export async function sideTables(inputs: ReportInputs, lrSearches: LrSearch[], preset: ReturnType<typeof getPreset> | null): Promise<StudyTable[]> {
  // the encoders table builds each encoder once to count its parameters: a backend must be up
  await tf.ready();
  const { records, pretraining, histories } = inputs;
  const out: StudyTable[] = [];
  const convergence = convergenceTable(records, histories);
  if (convergence.rows.length > 0) {
    out.push({ title: 'Convergence: steps and seconds to a fixed validation accuracy', file: 'convergence.csv', table: convergence,
      note: `Target at each label budget: ${100 * CONVERGENCE_TARGET} % of the best mean best validation accuracy there among the methods trained with equal labels (the compute-matched run is left out of the target: it has many times their steps). Steps and seconds are means over the runs that reached it; real epochs to best are passes over the labelled subset until the kept weights. Probes train on cached features, so their seconds leave out one feature extraction.` });
  }
  if (preset) {
    out.push({ title: 'Encoders', file: 'encoders.csv', note: 'Trainable parameters and feature dimension of each architecture in the tables.',
      table: encodersTable([
        { role: 'SimCLR, probes, fine-tuning, LP-FT, supervised ResNet', config: preset.scratch.encoder },
        { role: 'supervised basic CNN', config: preset.basicCnn.encoder },
      ]) });
  }
  out.push({ title: 'Speed', file: 'speed.csv', table: speedTable(records, pretraining),
    note: 'Wall seconds per run (training and validation) and training images per second (probes: feature rows per second on cached features).' });
  const ablation = ablationTable(records, pretraining);
  if (ablation.rows.length > 0) {
    out.push({ title: 'Dynamic-sampling ablation', file: 'ablation.csv', table: ablation,
      note: 'Three pretraining arms in the same number of steps: a fresh random fraction f of the pool every epoch, one fixed fraction f, and all images for f x E plain epochs. Each arm ran with every pretraining seed; differences are paired by seed, with 95 % bootstrap intervals.' });
  }
  const probeSeed = records.find((r) => r.method === 'simclr-checkpoint-linear')?.seed;
  if (probeSeed !== undefined) {
    out.push({ title: 'What longer pretraining buys', file: 'checkpoints.csv', table: checkpointTable(records, pretraining.find((p) => p.name === 'pretrain')?.epochs, probeSeed),
      note: `Linear-probe test accuracy (%) of the encoder saved part-way through pretraining, one probe seed (${probeSeed}); the last row is the final encoder.` });
  }
  if (lrSearches.length > 0) {
    out.push({ title: 'Fine-tuning learning rate, chosen on validation', file: 'lr-search.csv', table: lrSearchTable(lrSearches),
      note: 'Best validation accuracy of fine-tuning at each grid point (first train seed); the chosen rate serves fine-tuning and LP-FT at that budget, and at budgets without a search, the nearest searched one.' });
  }
  return out;
}

/**
 * The whole report for one preset: figures (HTML + PNG) in `<figuresDir>/<preset>`, CSV tables
 * next to the records, and the README section. A pure pivot of the records and the histories
 * they point to.
 */
export async function buildReport(options: ReportOptions): Promise<ReportOutput> {
  const log = options.log ?? ((line: string) => console.log(line));
  const inputs = loadReportInputs(path.join(options.resultsRoot, options.preset), options.preset, options.root);
  const { records } = inputs;
  const dataset = options.data?.dataset;
  const classNames = dataset?.classNames ?? DEFAULT_CLASS_NAMES;
  const main = inputs.pretraining.find((p) => p.name === 'pretrain');
  const context: ComparisonContext = { ...presetContext(options.preset), preset: options.preset, pretrainEpochs: main?.epochs };

  const presetConfig = (PRESET_NAMES as string[]).includes(options.preset) ? getPreset(options.preset) : null;
  const lrFile = path.join(inputs.resultsDir, 'lr-search.json');
  const lrSearches = fs.existsSync(lrFile) ? (JSON.parse(fs.readFileSync(lrFile, 'utf8')) as LrSearch[]) : [];
  const studyTables = await sideTables(inputs, lrSearches, presetConfig);
  const tables = [
    { file: 'summary.csv', table: summaryTable(records) },
    { file: 'metrics.csv', table: metricsTable(records) },
    { file: 'comparison.csv', table: comparisonTable(records, context) },
    ...studyTables.map((t) => ({ file: t.file, table: t.table })),
  ].map(({ file, table }) => {
    const target = path.join(inputs.resultsDir, file);
    writeTableCsv(table, target);
    return target;
  });

  const writer = new FigureWriter(path.join(options.figuresDir, options.preset), { png: options.png, warn: log });
  const figures: ReportOutput['figures'] = [];
  try {
    for (const { name, figure } of reportFigures(inputs, classNames, dataset)) {
      const written = await writer.write(figure, name);
      figures.push({ ...written, name, title: figure.layout.title.text });
      log(`figure ${name}: ${written.png ? 'html + png' : 'html'}`);
    }
  } finally {
    await writer.close();
  }

  const studyMeta = readStudyMeta(inputs.resultsDir);
  // Computed once for every document: encoderSize builds each encoder to count its parameters.
  const facts = {
    ...context,
    pretrainSeconds: inputs.pretraining.length > 0 ? inputs.pretraining.reduce((s, p) => s + p.wallSeconds, 0) : undefined,
    studySeconds: studyMeta && studyMeta.complete !== false ? studyMeta.wallSeconds : undefined,
    studyTables,
    encoderSizes: presetConfig ? { resnet: encoderSize(presetConfig.scratch.encoder), basicCnn: encoderSize(presetConfig.basicCnn.encoder) } : {},
  };
  /** A link to `file` from `document`, where the link will sit (from the working folder without one). */
  const linkFrom = (document: string | null) => (file: string): string =>
    path.relative(document ? path.dirname(path.resolve(document)) : process.cwd(), path.resolve(file)).split(path.sep).join('/');
  /** The section's facts, with every path relative to `document`. */
  const metaFor = (document: string | null): ResultsMeta => {
    const link = linkFrom(document);
    return {
      ...facts,
      recordsFile: link(path.join(inputs.resultsDir, 'records.json')),
      figures: figures.map((f): FigureLink => ({ name: f.name, title: f.title, html: link(f.html), png: f.png ? link(f.png) : null })),
    };
  };
  const perPreset = `results-${options.preset}`;
  const has = (text: string, section: string): boolean => text.includes(sectionMarkers(section)[0]);
  const readmeText = options.readme ? fs.readFileSync(options.readme, 'utf8') : '';
  // The full section goes to the README where it carries results markers of its own (a README of
  // one's own, the tests), else to the results document; there it must carry the preset's markers
  // (a missing pair is an error naming the fix). A README without a per-preset pair takes the plain
  // `results` markers.
  const readmeTakesFull = [perPreset, 'results'].some((section) => has(readmeText, section));
  const fullInReadme = !options.resultsDoc || readmeTakesFull;
  const fullSectionDoc = fullInReadme ? options.readme : options.resultsDoc ?? null;
  const markdown = renderResultsSection(records, metaFor(fullSectionDoc));
  if (fullSectionDoc) updateReadme(fullSectionDoc, markdown, fullInReadme && !has(readmeText, perPreset) ? 'results' : perPreset);
  if (options.readme) {
    // The headline and the presets table are optional: only READMEs that carry their markers get them.
    const headline = `headline-${options.preset}`;
    if (has(readmeText, headline)) {
      const fullLink = fullInReadme || !fullSectionDoc ? null : `${linkFrom(options.readme)(fullSectionDoc)}#results-preset-${options.preset}`;
      updateReadme(options.readme, renderHeadlineSection(records, metaFor(options.readme), fullLink), headline);
    }
    if (has(readmeText, 'presets')) {
      updateReadme(options.readme, renderPresetsSection(options.resultsRoot), 'presets');
    }
  }
  return { figures, tables, markdown };
}
