import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { test } from 'node:test';
import type { Method, RunRecord } from '../lib/experiments/records';
import type { EpochRecord } from '../lib/train/history';
import { buildReport } from '../lib/report/build-report';
import {
  accuracyVsLabelsFigure, augmentationPairsFigure, confusionFigure, convergenceFigure, datasetSamplesFigure,
  imageMosaic, pngDataUrl, pretrainingCurvesFigure, type RgbPicture, sslGainFigure, validationCurvesFigure,
} from '../lib/report/figures';
import type { BarTrace, ImageTrace, ScatterTrace } from '../lib/report/plotly-types';
import { RESULTS_END, RESULTS_START, replaceBetweenMarkers, renderResultsSection, updateReadme } from '../lib/report/readme';
import { dataFrameBundle } from '../lib/report/notebook-display';
import { keyFindings } from '../lib/report/findings';
import { bootstrapInterval, formatSummary, summarise } from '../lib/report/stats';
import { packBits, unpackBits } from '../lib/util/bitset';
import { convergenceTable } from '../lib/report/study-tables';
import { METHOD_STYLES } from '../lib/report/style';
import { comparisonTable, metricsTable, summaryTable, toCsv, toDataFrame, toMarkdown } from '../lib/report/tables';
import { UserError } from '../lib/util/errors';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) < tol, `${actual} != ${expected}`);

const TEST_IMAGES = 200;

/** Right/wrong flags of `accuracy` x TEST_IMAGES test images, the wrong ones spread by seed. */
function flags(accuracy: number, seed: number): number[] {
  const right = Math.round(accuracy * TEST_IMAGES);
  const order = Array.from({ length: TEST_IMAGES }, (_, i) => (i * 37 + seed * 11) % TEST_IMAGES);
  const out = new Array<number>(TEST_IMAGES).fill(0);
  order.slice(0, right).forEach((i) => { out[i] = 1; });
  return out;
}

/** A record with plausible fields; tests override what they check. */
function record(method: Method, labelPct: number, seed: number, testAccuracy: number, extra: Partial<RunRecord> = {}): RunRecord {
  const right = Math.round(testAccuracy * TEST_IMAGES);
  return {
    method, labelPct, seed, preset: 'smoke', testAccuracy,
    macroPrecision: testAccuracy - 0.01, macroRecall: testAccuracy, macroF1: testAccuracy - 0.02,
    perClassF1: [testAccuracy, testAccuracy], confusion: [[right, 0], [TEST_IMAGES - right, 0]], valAccuracy: testAccuracy + 0.01,
    selectedEpoch: 5, epochsRun: 6, realEpochs: 6, epochsToBest: 3 + seed, steps: 60, imagesSeen: 6000, plateau: true, labelledCount: 1000,
    wallSeconds: 30, imagesPerSecond: 100, testCorrect: packBits(flags(testAccuracy, seed)),
    backend: 'wasm', configHash: 'abc', runDir: '', dataFingerprint: 'f00d', ...extra,
  };
}

// simclr-linear at 100% and 10% with three seeds; supervised at both with two seeds.
const records: RunRecord[] = [
  record('simclr-linear', 100, 0, 0.80), record('simclr-linear', 100, 1, 0.82), record('simclr-linear', 100, 2, 0.84),
  record('simclr-linear', 10, 0, 0.70), record('simclr-linear', 10, 1, 0.72), record('simclr-linear', 10, 2, 0.74),
  record('supervised-resnet', 100, 0, 0.85), record('supervised-resnet', 100, 1, 0.87),
  record('supervised-resnet', 10, 0, 0.50), record('supervised-resnet', 10, 1, 0.54),
  record('simclr-knn', 100, 0, 0.75, { epochsToBest: null, steps: 0, realEpochs: 0, imagesSeen: 0, plateau: null, epochsRun: 0, selectedEpoch: null }),
];

test('summarise uses the sample standard deviation and formats mean ± std', () => {
  const s = summarise([0.80, 0.82, 0.84]);
  close(s.mean, 0.82);
  close(s.std, 0.02); // sqrt((0.02² + 0 + 0.02²) / 2)
  assert.equal(s.n, 3);
  assert.equal(formatSummary(s, 1, 100), '82.0 ± 2.0');
  assert.equal(formatSummary(summarise([0.5]), 1, 100), '50.0', 'a single run has no ±');
  assert.equal(formatSummary(summarise([]), 1, 100), '–');
});

test('accuracy figure: one trace per method, log axis, error bars equal the std over seeds', () => {
  const fig = accuracyVsLabelsFigure(records);
  const traces = fig.data as ScatterTrace[];
  assert.deepEqual(traces.map((t) => t.name), ['SimCLR + linear probe', 'SimCLR + kNN', 'Supervised ResNet']);
  const linear = traces[0];
  assert.deepEqual(linear.x, [10, 100]);
  close(linear.y[1], 82);
  close(linear.error_y?.array[1] ?? NaN, 100 * summarise([0.80, 0.82, 0.84]).std);
  close(traces[2].error_y?.array[0] ?? NaN, 100 * summarise([0.50, 0.54]).std);
  assert.equal(fig.layout.xaxis?.type, 'log');
  assert.deepEqual(fig.layout.xaxis?.tickvals, [10, 100]);
  assert.equal(linear.line?.color, METHOD_STYLES['simclr-linear'].color, 'one colour per method in every figure');
});

test('SSL gain: difference of means, error sqrt(std_a² + std_b²)', () => {
  const fig = sslGainFigure(records);
  assert.equal(fig.data.length, 1, 'no fine-tune records, so only the probe line');
  const gain = fig.data[0] as ScatterTrace;
  assert.deepEqual(gain.x, [10, 100]);
  close(gain.y[0], 100 * (0.72 - 0.52));
  close(gain.y[1], 100 * (0.82 - 0.86));
  const sa = summarise([0.70, 0.72, 0.74]).std;
  const sb = summarise([0.50, 0.54]).std;
  close(gain.error_y?.array[0] ?? NaN, 100 * Math.sqrt(sa ** 2 + sb ** 2));
});

test('convergence: steps and seconds to 90 % of the best method\'s validation accuracy, figure against steps', () => {
  const history = (accuracies: number[]): { epochs: EpochRecord[]; stepLearningRates: number[] } => ({
    epochs: accuracies.map((valAccuracy, i) => ({ epoch: i + 1, trainLoss: 1, valAccuracy, learningRate: 0.1, steps: 10 * (i + 1), imagesPerSecond: 1, seconds: 2 })),
    stepLearningRates: [],
  });
  const runs = [
    record('simclr-finetune', 10, 0, 0.7, { runDir: 'a', valAccuracy: 0.8 }),
    record('supervised-resnet', 10, 0, 0.5, { runDir: 'b', valAccuracy: 0.6 }),
  ];
  const histories = new Map([['a', history([0.5, 0.72, 0.8])], ['b', history([0.3, 0.5, 0.6])]]);
  const table = convergenceTable(runs, histories);
  // target 0.9 x 0.8 = 0.72: fine-tuning reaches it at step 20 (4 s); scratch never does
  assert.deepEqual(table.rows.map((r) => [r[0], r[1], r[3]]), [['SimCLR + fine-tune', 10, '1/1'], ['Supervised ResNet', 10, '0/1']]);
  close(table.rows[0][2] as number, 72);
  close((table.rows[0][4] as { mean: number }).mean, 20);
  close((table.rows[0][5] as { mean: number }).mean, 4);
  assert.equal(table.rows[1][4], null);
  const fig = convergenceFigure([{ method: 'simclr-finetune', labelPct: 10, seed: 0, points: [{ steps: 10, seconds: 2, valAccuracy: 0.5 }] }], new Map([[10, 0.72]]));
  assert.equal(fig.layout.xaxis?.title?.text, 'optimizer steps');
  assert.deepEqual((fig.data[1] as ScatterTrace).y, [72, 72], 'the target line');
});

test('bootstrap intervals: cover the mean, and pair the same test images on both sides', () => {
  const a = [0, 1, 2].map((seed) => Uint8Array.from(flags(0.8, seed)));
  const ci = bootstrapInterval(a)!;
  assert.ok(ci[0] < 0.8 && ci[1] > 0.8, `[${ci}]`);
  assert.ok(ci[1] - ci[0] > 0.04 && ci[1] - ci[0] < 0.2, `width ${ci[1] - ci[0]} for 200 images`);
  // identical runs on both sides: every replicate's gap is exactly 0 because images are paired
  assert.deepEqual(bootstrapInterval(a, a, { pairedSeeds: true }), [0, 0]);
  // a side that is right on every image the other gets right, plus 20 more: the gap interval excludes 0
  const better = a.map((run) => { const b = run.slice(); let extra = 20; for (let i = 0; i < b.length && extra > 0; i++) if (!b[i]) { b[i] = 1; extra--; } return b; });
  const gap = bootstrapInterval(better, a, { pairedSeeds: true })!;
  assert.ok(gap[0] > 0 && gap[0] < 0.1 && gap[1] > 0.1, `[${gap}] around the 0.1 gap, above 0`);
  assert.equal(bootstrapInterval([]), null);
  assert.equal(bootstrapInterval([Uint8Array.from([1, 0])], [Uint8Array.from([1])]), null, 'different test sets');
  assert.deepEqual(Array.from(unpackBits(packBits([1, 0, 1, 1, 0, 0, 0, 0, 1]), 9)), [1, 0, 1, 1, 0, 0, 0, 0, 1]);
});

test('confusion heatmap rows are normalised to 1', () => {
  const fig = confusionFigure([[3, 1], [0, 0]], ['cat', 'dog'], 'test');
  const z = (fig.data[0] as { z: number[][] }).z;
  assert.deepEqual(z, [[0.75, 0.25], [0, 0]]);
  assert.equal(fig.layout.yaxis?.autorange, 'reversed');
});

test('curves: pretraining panels, validation lines per run with one legend entry per method and label %', () => {
  const epochs: EpochRecord[] = [1, 2, 3].map((epoch) => ({
    epoch, trainLoss: 5 - epoch, knnAccuracy: 0.2 * epoch, embeddingStd: 0.05, valAccuracy: 0.3 * epoch,
    learningRate: 0.1, steps: 10 * epoch, imagesPerSecond: 50, seconds: 2,
  }));
  const pre = pretrainingCurvesFigure([{ name: 'pretrain', epochs }], 64);
  assert.deepEqual(pre.data.map((t) => t.xaxis), ['x', 'x2', 'x3']);
  close((pre.data[1] as ScatterTrace).y[2], 60);
  close(pre.layout.shapes?.[0].y0 ?? NaN, 1 / 8);
  const runs = [0, 1].map((seed) => ({ name: `probe seed ${seed}`, method: 'simclr-linear' as Method, labelPct: 10, epochs }));
  const val = validationCurvesFigure(runs).data as ScatterTrace[];
  assert.equal(val.length, 2);
  assert.deepEqual(val.map((t) => t.showlegend), [true, false]);
  assert.equal(val[0].line?.dash, 'dot');
});

test('image mosaics: one RGB picture with gaps, grayscale repeated to RGB, carried as a PNG the size of the mosaic', () => {
  const rgb = { pixels: new Uint8Array(2 * 2 * 2 * 3).map((_, i) => i), height: 2, width: 2, channels: 3 };
  const mosaic = imageMosaic([[{ batch: rgb, index: 0 }, { batch: rgb, index: 1 }]]);
  assert.equal(mosaic.height, 2);
  assert.equal(mosaic.width, 2 + 2 + 2); // two tiles and a 2-pixel gap
  const pixel = (p: RgbPicture, y: number, x: number): number[] => Array.from(p.rgb.subarray((y * p.width + x) * 3, (y * p.width + x) * 3 + 3));
  assert.deepEqual(pixel(mosaic, 0, 0), [0, 1, 2]);
  assert.deepEqual(pixel(mosaic, 1, 5), [21, 22, 23]); // image 1, row 1, column 1
  assert.deepEqual(pixel(mosaic, 0, 2), [255, 255, 255]);
  const gray = { pixels: Uint8Array.from([7, 8, 9, 10]), height: 2, width: 2, channels: 1 };
  assert.deepEqual(pixel(imageMosaic([[{ batch: gray, index: 0 }]]), 1, 0), [9, 9, 9]);

  const decoded = PNG.sync.read(Buffer.from(pngDataUrl(mosaic).replace('data:image/png;base64,', ''), 'base64'));
  assert.equal(decoded.width, 6);
  assert.deepEqual(Array.from(decoded.data.subarray((1 * 6 + 5) * 4, (1 * 6 + 5) * 4 + 4)), [21, 22, 23, 255]);

  const labels = [1, 0, 1, 1];
  const images = { pixels: new Uint8Array(4 * 4 * 3), height: 2, width: 2, channels: 3 };
  const pngHeight = (trace: ImageTrace): number => PNG.sync.read(Buffer.from((trace.source ?? '').split(',')[1], 'base64')).height;
  const samples = datasetSamplesFigure(images, labels, ['a', 'b'], 2);
  assert.deepEqual(samples.layout.yaxis?.ticktext, ['a', 'b']);
  assert.equal(pngHeight(samples.data[0] as ImageTrace), 2 * 2 + 2);
  const pairs = augmentationPairsFigure(images, images, images);
  assert.deepEqual(pairs.layout.xaxis?.ticktext, ['original', 'view 1', 'view 2']);
  assert.equal(pngHeight(pairs.data[0] as ImageTrace), 4 * 2 + 3 * 2);
});

test('tables: metrics pivot with n, summary by label %, CSV splits mean/std/n', () => {
  const metrics = metricsTable(records);
  assert.deepEqual(metrics.rows.map((r) => [r[0], r[1], r[2]]), [
    ['SimCLR + linear probe', 100, 3], ['SimCLR + linear probe', 10, 3], ['SimCLR + kNN', 100, 1],
    ['Supervised ResNet', 100, 2], ['Supervised ResNet', 10, 2],
  ]);
  const md = toMarkdown(metrics);
  assert.match(md, /\| SimCLR \+ linear probe \| 100 \| 3 \| 82\.0 ± 2\.0 \[\d+\.\d, \d+\.\d\] \| 80\.0 ± 2\.0 \| 83\.0 ± 2\.0 \| 6\.0 \| 4\.0 \| 60 \| 6000 \| 30\.0 \| 3\/3 \|/);
  assert.match(md, /\| SimCLR \+ kNN \| 100 \| 1 \| 75\.0 \[\d+\.\d, \d+\.\d\] \| 73\.0 \| 76\.0 \| – \| – \| – \| – \| 30\.0 \| – \|/);
  const summary = summaryTable(records);
  assert.deepEqual(summary.columns.map((c) => c.name), ['Method', '100% labels (same set every seed)', '10% labels']);
  assert.match(toMarkdown(summary), /\| SimCLR \+ kNN \| 75\.0 \[\d+\.\d, \d+\.\d\] \| – \|/);
  const csv = toCsv(metrics).split('\n');
  assert.ok(csv[0].startsWith('Method,Labels (%),n,Test accuracy (%) mean,Test accuracy (%) std,Test accuracy (%) n,Test accuracy (%) ci low,Test accuracy (%) ci high,'));
  const first = csv[1].split(',');
  close(Number(first[3]), 82);
  close(Number(first[4]), 2);
});

test('comparison table: published anchors first, then our 100% rows with epochs and backend', () => {
  const table = comparisonTable(records, { preset: 'smoke', pretrainEpochs: 7, pretrainBatch: 64, supervisedBatch: 32, encoder: 'ResNet' });
  const ours = table.rows.filter((r) => String(r[0]).startsWith('this project'));
  assert.deepEqual(ours.map((r) => r[1]), ['SimCLR + linear probe', 'SimCLR + kNN', 'Supervised ResNet']);
  assert.deepEqual(ours[0].slice(4, 7), ['7 pretraining', 64, 'tfjs wasm backend']);
  assert.deepEqual(ours[2].slice(4, 6), ['6', 32]);
  const md = toMarkdown(table);
  assert.match(md, /Chen et al\. 2020/);
  assert.match(md, /88–89 \(approx\.\)/);
});

test('tables become danfo DataFrames with numeric mean/std/n columns', () => {
  const df = toDataFrame(summaryTable(records));
  assert.deepEqual(df.columns.slice(0, 4), ['Method', '100% labels (same set every seed) mean', '100% labels (same set every seed) std', '100% labels (same set every seed) n']);
  assert.equal(df.shape[0], 3);
  const html = String(dataFrameBundle(df).data['text/html']);
  assert.match(html, /^<table><thead><tr><th>Method<\/th><th>100% labels \(same set every seed\) mean<\/th>/);
  assert.match(html, /<td>SimCLR \+ kNN<\/td><td>75<\/td><td>0<\/td><td>1<\/td>/);
});

test('README markers: the section between them is replaced, the rest kept; missing markers are a UserError', () => {
  const text = `# Title\nintro\n${RESULTS_START}\nold stuff\n${RESULTS_END}\nfooter\n`;
  const updated = replaceBetweenMarkers(text, '### New\n');
  assert.equal(updated, `# Title\nintro\n${RESULTS_START}\n### New\n${RESULTS_END}\nfooter\n`);
  assert.equal(replaceBetweenMarkers(updated, '### New\n'), updated, 'idempotent');
  assert.throws(() => replaceBetweenMarkers('# no markers\n', 'x'), (err: unknown) =>
    err instanceof UserError && err.message.includes(RESULTS_START));
  assert.throws(() => replaceBetweenMarkers(`${RESULTS_END}\n${RESULTS_START}\n`, 'x'), UserError);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-readme-'));
  try {
    const readme = path.join(dir, 'README.md');
    fs.writeFileSync(readme, text);
    updateReadme(readme, '### Fresh');
    assert.match(fs.readFileSync(readme, 'utf8'), /### Fresh\n<!-- results:end -->\nfooter/);
    fs.writeFileSync(readme, '# nothing\n');
    assert.throws(() => updateReadme(readme, 'x'), UserError);
    assert.equal(fs.readFileSync(readme, 'utf8'), '# nothing\n', 'a failed update leaves the file alone');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('results section states data, backend, runs and wall time, from the records only', () => {
  const md = renderResultsSection(records, {
    preset: 'smoke', recordsFile: 'results/smoke/records.json', pretrainSeconds: 90,
    figures: [{ name: 'accuracy-vs-labels', title: 'Accuracy', html: 'figures/smoke/a.html', png: 'figures/smoke/a.png' }],
  });
  assert.match(md, /preset `smoke`/);
  assert.match(md, /fingerprint `f00d`/);
  assert.match(md, /tfjs wasm/);
  assert.match(md, /\*\*Runs:\*\* 11 \(SimCLR \+ linear probe 6, SimCLR \+ kNN 1, Supervised ResNet 4\), seeds 0, 1, 2/);
  assert.match(md, /\*\*Wall time:\*\* runs 7 min 00 s: pretraining 1 min 30 s, evaluation runs 5 min 30 s\n/);
  assert.match(md, /!\[Accuracy\]\(figures\/smoke\/a\.png\)/);
  const finished = renderResultsSection(records, { preset: 'smoke', recordsFile: 'r.json', pretrainSeconds: 90, studySeconds: 500, figures: [] });
  assert.match(finished, /\*\*Wall time:\*\* 8 min 20 s for the whole study \(runs 7 min 00 s: pretraining/);
});

test('buildReport: figures, CSV tables and the README section from a results folder', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'report-build-'));
  try {
    const resultsDir = path.join(root, 'results', 'smoke');
    const epochs: EpochRecord[] = [1, 2].map((epoch) => ({
      epoch, trainLoss: 2 / epoch, valAccuracy: 0.4 * epoch, learningRate: 0.1 / epoch, steps: 4 * epoch, imagesPerSecond: 9, seconds: 1,
    }));
    const runDir = path.join('results', 'smoke', 'runs', 'probe');
    fs.mkdirSync(path.join(root, runDir), { recursive: true });
    fs.writeFileSync(path.join(root, runDir, 'history.jsonl'), epochs.map((e) => JSON.stringify(e)).join('\n') + '\n');
    fs.writeFileSync(path.join(root, runDir, 'step-lr.json'), JSON.stringify([0.1, 0.1, 0.05, 0.05]));
    fs.writeFileSync(path.join(resultsDir, 'records.json'), JSON.stringify(records.map((r) => ({ ...r, runDir }))));
    const readme = path.join(root, 'README.md');
    fs.writeFileSync(readme, `# x\n${RESULTS_START}\n${RESULTS_END}\n`);
    const lines: string[] = [];
    const out = await buildReport({
      preset: 'smoke', resultsRoot: path.join(root, 'results'), figuresDir: path.join(root, 'figures'),
      readme, png: false, root, log: (line) => lines.push(line),
    });
    assert.deepEqual(out.figures.map((f) => f.name),
      ['accuracy-vs-labels', 'ssl-gain', 'convergence', 'accuracy-vs-wall-time', 'confusion', 'validation-curves', 'training-loss', 'learning-rates']);
    for (const f of out.figures) {
      assert.ok(fs.existsSync(f.html));
      assert.equal(f.png, null);
    }
    assert.ok(fs.existsSync(path.join(root, 'figures', 'smoke', 'plotly.min.js')));
    assert.deepEqual(out.tables.map((t) => path.basename(t)), ['summary.csv', 'metrics.csv', 'comparison.csv', 'convergence.csv', 'encoders.csv', 'speed.csv']);
    const text = fs.readFileSync(readme, 'utf8');
    assert.match(text, /\[interactive HTML\]|\(interactive HTML\)/);
    assert.match(text, /figures\/smoke\/accuracy-vs-labels\.html/);
    assert.match(text, /\[results\/smoke\/records\.json\]/);

    // A README with a section of the preset's own gets it there and leaves the plain one alone.
    fs.writeFileSync(readme, `# x\n${RESULTS_START}\nkept\n${RESULTS_END}\n<!-- results-smoke:start -->\n<!-- results-smoke:end -->\n`);
    await buildReport({
      preset: 'smoke', resultsRoot: path.join(root, 'results'), figuresDir: path.join(root, 'figures'),
      readme, png: false, root, log: () => {},
    });
    const twoSections = fs.readFileSync(readme, 'utf8');
    assert.match(twoSections, /results:start -->\nkept\n/);
    assert.match(twoSections, /results-smoke:start -->\n### Results: preset `smoke`/);

    // With a results document, the full section goes there (links relative to it) and the README
    // gets the headline (links relative to the README) and a link to the full section.
    fs.mkdirSync(path.join(root, 'docs'));
    const resultsDoc = path.join(root, 'docs', 'results.md');
    fs.writeFileSync(resultsDoc, '# Results\n<!-- results-smoke:start -->\n<!-- results-smoke:end -->\n');
    fs.writeFileSync(readme, '# x\n<!-- headline-smoke:start -->\n<!-- headline-smoke:end -->\nfooter\n');
    await buildReport({
      preset: 'smoke', resultsRoot: path.join(root, 'results'), figuresDir: path.join(root, 'figures'),
      readme, resultsDoc, png: false, root, log: () => {},
    });
    const full = fs.readFileSync(resultsDoc, 'utf8');
    assert.match(full, /### Results: preset `smoke`/);
    assert.match(full, /\[\.\.\/results\/smoke\/records\.json\]/);
    assert.match(full, /\.\.\/figures\/smoke\/accuracy-vs-labels\.html/);
    const headline = fs.readFileSync(readme, 'utf8');
    assert.match(headline, /headline-smoke:start -->\n_Preset `smoke`.*\(results\/smoke\/records\.json\).*\(docs\/results\.md#results-preset-smoke\)/);
    assert.match(headline, /\*\*Test accuracy \(%\): mean ± std over seeds \[95 % bootstrap interval/);
    assert.match(headline, /headline-smoke:end -->\nfooter\n$/);
    assert.doesNotMatch(headline, /### Results/);

    // A results document without the preset's markers is an error naming them, and is left alone.
    fs.writeFileSync(resultsDoc, '# Results\n');
    await assert.rejects(buildReport({
      preset: 'smoke', resultsRoot: path.join(root, 'results'), figuresDir: path.join(root, 'figures'),
      readme, resultsDoc, png: false, root, log: () => {},
    }), /lacks the <!-- results-smoke:start --> marker/);
    assert.equal(fs.readFileSync(resultsDoc, 'utf8'), '# Results\n');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('key findings: a gap is a lead only when its bootstrap interval excludes zero; runs without a plateau are flagged', () => {
  const findings = keyFindings([
    ...records,
    record('supervised-resnet', 10, 2, 0.52, { plateau: false }),
    ...[0, 1, 2].flatMap((seed) => [record('simclr-fixed-subset-linear', 10, seed, 0.60), record('simclr-fresh-subset-linear', 10, seed, 0.605)]),
  ], { resnet: { parameters: 77000, featureDim: 64 }, basicCnn: { parameters: 286000, featureDim: 256 } });
  const ssl = findings.find((f) => f.startsWith('**SSL versus labels only** (equal labels)'));
  assert.ok(ssl, findings.join('\n'));
  // linear 82 vs scratch 86 at 100 %: the interval of a 4-point gap on 200 images and 2-3 seeds includes zero; 72 vs 52 at 10 % does not
  assert.match(ssl, /is −4\.0 at 100 % \[−\d+\.\d, \+\d+\.\d\], \+20\.0 at 10 % \[\+\d+\.\d, \+\d+\.\d\]/);
  assert.match(ssl, /ahead at 10 %; no clear difference at 100 % \(the interval includes zero\)/);
  const sampling = findings.find((f) => f.startsWith('**Dynamic sampling**') && f.includes('fixed subset'));
  assert.match(sampling ?? '', /3 pretraining seeds.*\+0\.5 ± 0\.0 points, paired by seed \[.*\]: no clear difference/);
  const flagged = findings.find((f) => f.startsWith('**Possibly undertrained:**'));
  assert.match(flagged ?? '', /1 run ended without a validation plateau.*Supervised ResNet at 10 % \(seed 2\)/);
  assert.equal(findings.some((f) => f.startsWith('**Not a matched pair:**')), false, 'the size caveat only when the CNN ran');
  const withCnn = keyFindings([...records, record('supervised-cnn', 100, 0, 0.8)], { resnet: { parameters: 77000, featureDim: 64 }, basicCnn: { parameters: 286000, featureDim: 256 } });
  assert.match(withCnn.find((f) => f.startsWith('**Not a matched pair:**')) ?? '', /286,000 parameters and 256-d features, the ResNet 77,000 and 64-d/);
  assert.equal(findings.filter((f) => f.includes('Basic CNN versus')).length, 0, 'no sentence about methods that did not run');
});
