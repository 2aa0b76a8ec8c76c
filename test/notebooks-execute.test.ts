import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { executeNotebooks, findNotebookPython, listNotebooks, writeKernelspec } from '../lib/report/notebooks';
import { trainingNodeFlags } from '../lib/util/node-flags';
import { findChromium } from '../lib/report/render-png';
import { UserError } from '../lib/util/errors';

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}

interface Notebook {
  cells: Array<{ cell_type: string; source: string | string[]; outputs?: Output[] }>;
}

/** A minimal nbformat 4 notebook of TypeScript code cells. */
function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4, nbformat_minor: 5,
  });
}

const text = (o: Output): string => (Array.isArray(o.text) ? o.text.join('') : o.text ?? '');
const python = findNotebookPython();
const skip = python === null && 'no Python with nbclient (apt-get install python3-nbclient python3-ipykernel jupyter-client)';

test('the kernelspec starts the project tslab through the launcher with this Node', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernelspec-'));
  try {
    const dir = writeKernelspec(root);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'kernels', 'tslab', 'kernel.json'), 'utf8')) as { argv: string[] };
    assert.deepEqual(spec.argv, [process.execPath, ...trainingNodeFlags(), path.join(root, 'scripts', 'tslab-kernel.js'), '{connection_file}']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('listNotebooks sorts by name and filters by prefix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nblist-'));
  try {
    for (const name of ['02-b.ipynb', '01-a.ipynb', '10-c.ipynb', 'notes.md']) fs.writeFileSync(path.join(dir, name), '{}');
    assert.deepEqual(listNotebooks(dir).map((f) => path.basename(f)), ['01-a.ipynb', '02-b.ipynb', '10-c.ipynb']);
    assert.deepEqual(listNotebooks(dir, ['02', '10']).map((f) => path.basename(f)), ['02-b.ipynb', '10-c.ipynb']);
    assert.throws(() => listNotebooks(dir, ['99']), UserError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a TypeScript notebook runs headless: lib imports, the preset variable, a figure bundle', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbrun-'));
  try {
    const source = path.join(dir, 'tiny.ipynb');
    fs.writeFileSync(source, notebook([
      "import { summarise } from './lib/report/stats';\nconsole.log(summarise([1, 2, 3]).mean, process.env.CIFAR_SSL_PRESET);",
      "import { showFigure } from './lib/report/notebook-display';\n" +
      "await showFigure({ data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2] }], layout: { title: { text: 'tiny' }, width: 300, height: 200 } });",
    ]));
    const outDir = path.join(dir, 'out');
    const results = await executeNotebooks({ notebooks: [source], output: { dir: outDir }, timeoutSeconds: 120, preset: 'smoke', python: python ?? undefined });
    assert.equal(results.length, 1);
    assert.ok(results[0].ok);
    const executed = JSON.parse(fs.readFileSync(path.join(outDir, 'tiny.ipynb'), 'utf8')) as Notebook;
    const [first, second] = executed.cells.map((c) => c.outputs ?? []);
    assert.equal(first.filter((o) => o.name === 'stdout').map(text).join(''), '2 smoke\n');
    const display = second.find((o) => o.output_type === 'display_data');
    assert.ok(display?.data, `no display output: ${JSON.stringify(second)}`);
    const mimes = Object.keys(display.data);
    assert.ok(mimes.includes('application/vnd.plotly.v1+json') && mimes.includes('text/plain'));
    assert.equal(mimes.includes('image/png'), findChromium() !== null);
    assert.equal(fs.readFileSync(source, 'utf8').includes('"outputs": []') || !fs.readFileSync(source, 'utf8').includes('display_data'), true,
      'the source notebook is untouched with --out');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing cell fails the run with the cell number and its error', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbfail-'));
  try {
    const source = path.join(dir, 'broken.ipynb');
    const original = notebook(["console.log('fine');", "throw new Error('boom from cell two');"]);
    fs.writeFileSync(source, original);
    await assert.rejects(
      executeNotebooks({ notebooks: [source], output: { inplace: true }, timeoutSeconds: 60, python: python ?? undefined }),
      (err: unknown) => err instanceof UserError && /broken\.ipynb failed in cell 2/.test(err.message) && /boom from cell two/.test(err.message),
    );
    assert.equal(fs.readFileSync(source, 'utf8'), original, 'a failed in-place run leaves the notebook as it was');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
