import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FigureWriter, figureHtml, PLOTLY_FILE } from '../lib/report/figure-writer';
import { figureBundle } from '../lib/report/notebook-display';
import type { Figure } from '../lib/report/plotly-types';
import { findChromium } from '../lib/report/render-png';

const figure: Figure = {
  data: [{ type: 'scatter', mode: 'lines+markers', x: [1, 2, 3], y: [3, 1, 2], name: '</script><b>x</b>' }],
  layout: { title: { text: 'A <small> test' }, width: 320, height: 200 },
};

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): [number, number] {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test('HTML loads the shared plotly copy and cannot be broken out of by figure text', () => {
  const html = figureHtml(figure);
  assert.match(html, new RegExp(`<script src="${PLOTLY_FILE.replace('.', '\\.')}"></script>`));
  assert.equal(html.match(/<\/script>/g)?.length, 2, 'only our two script elements close');
  assert.match(html, /<title>A &lt;small&gt; test<\/title>/);
});

test('notebook bundle: plotly JSON, PNG with its display size, and text', () => {
  const bundle = figureBundle(figure, Uint8Array.from([1, 2, 3]));
  assert.deepEqual(Object.keys(bundle.data), ['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
  assert.deepEqual((bundle.data['application/vnd.plotly.v1+json'] as Figure).data, figure.data);
  assert.equal(bundle.data['image/png'], 'AQID');
  assert.deepEqual(bundle.metadata['image/png'], { width: 320, height: 200 });
  const noPng = figureBundle(figure, null, '(no PNG)');
  assert.equal('image/png' in noPng.data, false);
  assert.match(String(noPng.data['text/plain']), /no PNG/);
});

test('FigureWriter without Chromium warns once and still writes HTML', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-nopng-'));
  const warnings: string[] = [];
  const writer = new FigureWriter(dir, { png: true, warn: (m) => warnings.push(m), findBrowser: () => null });
  try {
    await writer.write(figure, 'a');
    await writer.write(figure, 'b');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /apt-get install chromium/);
    assert.ok(fs.existsSync(path.join(dir, 'a.html')) && fs.existsSync(path.join(dir, 'b.html')));
    assert.ok(!fs.existsSync(path.join(dir, 'a.png')));
  } finally {
    await writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PNG export through headless Chromium, one browser for several figures', { skip: findChromium() === null && 'no Chromium (apt-get install chromium)' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-png-'));
  const writer = new FigureWriter(dir, { png: true, warn: (m) => assert.fail(m) });
  try {
    const first = await writer.write(figure, 'first');
    const second = await writer.write({ ...figure, layout: { ...figure.layout, width: 400 } }, 'second');
    assert.ok(first.png && second.png);
    assert.deepEqual(pngSize(fs.readFileSync(first.png)), [640, 400], 'scale 2 of the layout size');
    assert.deepEqual(pngSize(fs.readFileSync(second.png)), [800, 400]);
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('.tmp-')).length, 0, 'no temporary files left');
    assert.ok(fs.existsSync(path.join(dir, PLOTLY_FILE)));
  } finally {
    await writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
