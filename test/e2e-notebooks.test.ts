import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { findChromium } from '../lib/report/render-png';
import { findNotebookPython } from '../lib/report/notebooks';
import { PROJECT_ROOT, realDataOrSkipReason } from './helpers/real-data';

interface NotebookOutput { output_type: string; data?: Record<string, unknown>; ename?: string }
interface NotebookCell { cell_type: string; outputs?: NotebookOutput[] }

describe('the notebooks, executed headless on the smoke preset', () => {
  let skip: string | null = null;
  before(async () => {
    skip = findNotebookPython() === null ? 'no python3 with nbclient and ipykernel (apt-get install python3-nbclient python3-ipykernel)' : await realDataOrSkipReason();
  });

  test('all five run top to bottom and show figures as plotly JSON with a PNG', (t) => {
    if (skip) return t.skip(skip);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-notebooks-'));
    // Results and checkpoints go to temporary folders: the tracked results/smoke stays as it is.
    const [results, runs] = [path.join(out, 'results'), path.join(out, 'runs')];
    const trackedStudy = path.join(PROJECT_ROOT, 'results', 'smoke', 'study.json');
    const readTracked = () => (fs.existsSync(trackedStudy) ? fs.readFileSync(trackedStudy, 'utf8') : null);
    const tracked = readTracked();
    const result = spawnSync(process.execPath, [
      path.join(PROJECT_ROOT, 'bin', 'cifar-ssl.js'), 'notebooks', '--preset', 'smoke', '--out', out, '--results', results, '--runs', runs,
    ], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr + result.stdout.slice(-3000));
    assert.ok(fs.existsSync(path.join(results, 'smoke', 'records.json')), 'the notebooks wrote no records under --results');
    assert.ok(fs.readdirSync(runs).length > 0, 'the notebooks wrote no checkpoints under --runs');
    assert.equal(readTracked(), tracked, 'the notebooks changed results/smoke in the repository');
    const names = fs.readdirSync(path.join(PROJECT_ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
    assert.deepEqual(names, ['01-data-exploration.ipynb', '02-simclr-pretrain.ipynb', '03-linear-probe.ipynb', '04-baselines.ipynb', '05-analysis.ipynb']);
    for (const name of names) {
      const notebook = JSON.parse(fs.readFileSync(path.join(out, name), 'utf8')) as { cells: NotebookCell[] };
      const outputs = notebook.cells.flatMap((c) => c.outputs ?? []);
      assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0, `${name} has error outputs`);
      const figures = outputs.filter((o) => o.data && 'application/vnd.plotly.v1+json' in o.data);
      if (name !== '03-linear-probe.ipynb' || figures.length > 0) assert.ok(figures.length > 0, `${name} shows no figure`);
      if (findChromium()) for (const figure of figures) assert.ok('image/png' in figure.data!, `${name}: a figure without its PNG`);
    }
  });
});
