import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { RunRecord } from '../lib/experiments/records';
import { findChromium } from '../lib/report/render-png';
import { PROJECT_ROOT, realDataOrSkipReason } from './helpers/real-data';

describe('the study end to end on the smoke preset', () => {
  let skip: string | null = null;
  before(async () => {
    skip = await realDataOrSkipReason();
  });

  test('records, figures and the README section are produced; a second run skips finished runs', (t) => {
    if (skip) return t.skip(skip);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-study-'));
    const readme = path.join(out, 'README.md');
    fs.writeFileSync(readme, '# study\n<!-- results:start -->\n<!-- results:end -->\nfooter\n');
    const args = [path.join(PROJECT_ROOT, 'bin', 'cifar-ssl.js'), 'study', '--preset', 'smoke',
      '--results', path.join(out, 'results'), '--runs', path.join(out, 'runs'), '--figures', path.join(out, 'figures'), '--readme', readme];
    const first = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr + first.stdout.slice(-2000));

    const records = JSON.parse(fs.readFileSync(path.join(out, 'results', 'smoke', 'records.json'), 'utf8')) as RunRecord[];
    const methods = new Set(records.map((r) => r.method));
    for (const method of [
      'simclr-knn', 'simclr-linear', 'simclr-finetune', 'simclr-lpft', 'supervised-resnet', 'supervised-resnet-matched', 'supervised-cnn', 'random-linear',
      'simclr-checkpoint-linear', 'simclr-fixed-subset-linear', 'simclr-fresh-subset-linear', 'simclr-all-chunked-linear',
    ]) {
      assert.ok(methods.has(method as RunRecord['method']), `no ${method} record`);
    }
    const byMethod = (method: string): RunRecord[] => records.filter((r) => r.method === method);
    assert.deepEqual(byMethod('simclr-fresh-subset-linear').map((r) => r.seed), [0, 1], 'one ablation probe per pretraining seed');
    assert.ok(byMethod('simclr-finetune').every((r) => r.choice?.lrGrid?.length === 2 && [0.1, 0.03].includes(r.choice.learningRate!)), 'fine-tuning records its learning-rate grid and choice');
    assert.ok(byMethod('simclr-knn').every((r) => r.choice?.k !== undefined && r.choice.k <= r.labelledCount), 'kNN records its k, capped by the bank');
    const matched = byMethod('supervised-resnet-matched')[0];
    assert.ok(matched.imagesSeen > byMethod('supervised-resnet').find((r) => r.labelPct === 100)!.imagesSeen, 'the compute-matched run sees more images');
    for (const r of records.filter((x) => x.steps > 0)) assert.ok(r.realEpochs >= 1 && r.imagesSeen > 0 && r.testCorrect.length > 0, `${r.method} cost fields`);
    for (const record of records) {
      assert.ok(record.testAccuracy >= 0 && record.testAccuracy <= 1);
      assert.equal(record.preset, 'smoke');
      assert.ok(record.configHash.length > 0 && record.backend.length > 0);
    }
    assert.ok(fs.readFileSync(path.join(out, 'results', 'smoke', 'records.csv'), 'utf8').startsWith('method,labelPct,seed'));
    const figures = fs.readdirSync(path.join(out, 'figures', 'smoke'));
    for (const name of ['accuracy-vs-labels', 'pretraining', 'learning-rates', 'confusion', 'projection', 'augmentation-pairs', 'dataset-samples', 'ssl-gain', 'convergence', 'accuracy-vs-wall-time', 'pretraining-checkpoints']) {
      assert.ok(figures.includes(`${name}.html`), `no ${name}.html`);
      if (findChromium()) assert.ok(figures.includes(`${name}.png`), `no ${name}.png`);
    }
    const text = fs.readFileSync(readme, 'utf8');
    assert.match(text, /### Results: preset `smoke`[\s\S]*<!-- results:end -->\nfooter\n$/);

    const embeddings = path.join(out, 'results', 'smoke', 'embeddings.json');
    const firstEmbeddings = fs.readFileSync(embeddings, 'utf8');

    const second = spawnSync(process.execPath, [...args, '--no-png'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already recorded, skipped/);
    assert.doesNotMatch(second.stdout, /starting epoch 1/);
    // No probe ran, so no feature cache was extracted: the projection's features came from the
    // embedding rows alone, and are the ones the first run took from its caches.
    assert.equal(fs.readFileSync(embeddings, 'utf8'), firstEmbeddings, 'the embeddings differ from the first run');
  });
});
