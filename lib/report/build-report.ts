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
  accuracyVsLabelsFigure, augmentationPairsFigure, convergenceFigure, confusionFigure, datasetSamplesFigure, GAIN_BASELINE, GAIN_METHODS,
  learningRateFigure, pretrainingCurvesFigure, sslGainFigure, sumConfusions, trainingLossFigure,
  validationCurvesFigure, type CurveRun, type ImageBatch,
} from './figures/index';
import { projectionFigure, type FeaturePanel } from './figures/projection';
import type { Figure } from './plotly-types';
import { renderHeadlineSection, renderResultsSection, sectionMarkers, updateReadme, type FigureLink, type ResultsMeta } from './readme';
import { renderPresetsSection } from './presets-section';
import { loadReportInputs, type ReportInputs } from './run-data';
import { groupRecords, summarise, type RecordGroup } from './stats';
import { METHOD_STYLES } from './style';
import { comparisonTable, metricsTable, summaryTable, writeTableCsv, type ComparisonContext } from './tables';

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
  /** the README section */
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
  const figures: Array<{ name: string; figure: Figure }> = [
    { name: 'accuracy-vs-labels', figure: accuracyVsLabelsFigure(records) },
  ];
  const methods = new Set(records.map((r) => r.method));
  if (methods.has(GAIN_BASELINE) && GAIN_METHODS.some((m) => methods.has(m))) {
    figures.push({ name: 'ssl-gain', figure: sslGainFigure(records) });
  }
  if (records.some((r) => r.convergenceEpoch !== null)) {
    figures.push({ name: 'convergence', figure: convergenceFigure(records) });
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
  const runs = records.map((r) => recordRun(r, inputs)).filter((r): r is CurveRun => r !== null);
  if (runs.some((r) => r.epochs.some((e) => e.valAccuracy !== undefined))) {
    figures.push({ name: 'validation-curves', figure: validationCurvesFigure(runs) });
  }
  if (runs.length > 0) figures.push({ name: 'training-loss', figure: trainingLossFigure(runs) });
  // One schedule per protocol is enough: the first seed of each method at its largest label %
  // (groups come sorted by method, then label % descending).
  const shown = new Set<Method>();
  const firstOfEach: CurveRun[] = [];
  for (const g of groupRecords(records.filter((r) => inputs.histories.has(r.runDir)))) {
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

  const tables = [
    { file: 'summary.csv', table: summaryTable(records) },
    { file: 'metrics.csv', table: metricsTable(records) },
    { file: 'comparison.csv', table: comparisonTable(records, context) },
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
  /** The section's facts, with every path relative to `document`, where the links will sit. */
  const metaFor = (document: string | null): ResultsMeta => {
    const documentDir = document ? path.dirname(path.resolve(document)) : process.cwd();
    const link = (file: string): string => path.relative(documentDir, path.resolve(file)).split(path.sep).join('/');
    return {
      ...context,
      recordsFile: link(path.join(inputs.resultsDir, 'records.json')),
      figures: figures.map((f): FigureLink => ({ name: f.name, title: f.title, html: link(f.html), png: f.png ? link(f.png) : null })),
      pretrainSeconds: inputs.pretraining.length > 0 ? inputs.pretraining.reduce((s, p) => s + p.wallSeconds, 0) : undefined,
      studySeconds: studyMeta && studyMeta.complete !== false ? studyMeta.wallSeconds : undefined,
    };
  };
  const markdown = renderResultsSection(records, metaFor(options.resultsDoc ?? options.readme));
  const perPreset = `results-${options.preset}`;
  const has = (text: string, section: string): boolean => text.includes(sectionMarkers(section)[0]);
  // The full section goes to the README where it carries results markers of its own (a README of
  // one's own, the tests), else to the results document.
  const readmeText = options.readme ? fs.readFileSync(options.readme, 'utf8') : '';
  const readmeTakesFull = [perPreset, 'results'].some((section) => has(readmeText, section));
  let fullSectionDoc: string | null = null;
  if (options.resultsDoc && !readmeTakesFull) {
    // the results document must carry the preset's markers: a missing pair is an error naming the fix
    updateReadme(options.resultsDoc, renderResultsSection(records, metaFor(options.resultsDoc)), perPreset);
    fullSectionDoc = options.resultsDoc;
  }
  if (options.readme) {
    const readmeMeta = metaFor(options.readme);
    if (fullSectionDoc === null) {
      // A README can hold one results section per preset (`results-<preset>` markers); without them
      // the plain `results` markers take the section.
      updateReadme(options.readme, renderResultsSection(records, readmeMeta), has(readmeText, perPreset) ? perPreset : 'results');
    }
    // The headline and the presets table are optional: only READMEs that carry their markers get them.
    const headline = `headline-${options.preset}`;
    if (has(readmeText, headline)) {
      const fullLink = fullSectionDoc === null ? null : `${path.relative(path.dirname(path.resolve(options.readme)), path.resolve(fullSectionDoc)).split(path.sep).join('/')}#results-preset-${options.preset}`;
      updateReadme(options.readme, renderHeadlineSection(records, readmeMeta, fullLink), headline);
    }
    if (has(readmeText, 'presets')) {
      updateReadme(options.readme, renderPresetsSection(options.resultsRoot), 'presets');
    }
  }
  return { figures, tables, markdown };
}
