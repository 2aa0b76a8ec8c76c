import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectionFigure } from '../lib/report/figures';
import { pca } from '../lib/report/pca';
import type { ScatterTrace } from '../lib/report/plotly-types';
import { Rng } from '../lib/util/random';

/** n points in d dimensions: std 3 along u, 1 along v (orthogonal unit vectors), 0.1 elsewhere, offset by 5. */
function knownData(n: number, d: number, u: number[], v: number[]): Float32Array {
  const rng = new Rng(7);
  const x = new Float32Array(n * d); // [n, d]
  for (let i = 0; i < n; i++) {
    const a = 3 * rng.normal();
    const b = rng.normal();
    for (let j = 0; j < d; j++) x[i * d + j] = 5 + a * u[j] + b * v[j] + 0.1 * rng.normal();
  }
  return x;
}

const d = 6;
const s = Math.SQRT1_2;
const u = [s, s, 0, 0, 0, 0];
const v = [0, 0, 0, s, -s, 0];

test('PCA finds the known directions and variances', () => {
  const n = 4000;
  const { components, variances, explainedRatio, projected } = pca(knownData(n, d, u, v), n, d, 2);
  const dot = (c: number, w: number[]): number => w.reduce((acc, wj, j) => acc + wj * components[c * d + j], 0);
  assert.ok(Math.abs(Math.abs(dot(0, u)) - 1) < 1e-3, `PC1 · u = ${dot(0, u)}`);
  assert.ok(Math.abs(Math.abs(dot(1, v)) - 1) < 1e-3, `PC2 · v = ${dot(1, v)}`);
  assert.ok(Math.abs(variances[0] - 9) < 0.6, `variance 1 = ${variances[0]}`);
  assert.ok(Math.abs(variances[1] - 1) < 0.1, `variance 2 = ${variances[1]}`);
  // total variance = 9 + 1 + 6 * 0.01
  assert.ok(Math.abs(explainedRatio[0] - 9 / 10.06) < 0.02);
  assert.equal(projected.length, 2 * n);
  const mean = projected.filter((_, i) => i % 2 === 0).reduce((acc, p) => acc + p, 0) / n;
  assert.ok(Math.abs(mean) < 1e-3, 'projections are centred');
});

test('PCA is repeatable and its signs are fixed', () => {
  const x = knownData(300, d, u, v);
  const a = pca(x, 300, d, 2);
  const b = pca(x, 300, d, 2, 123);
  for (let c = 0; c < 2; c++) {
    const row = Array.from(a.components.slice(c * d, (c + 1) * d));
    const largest = row.reduce((m, w) => (Math.abs(w) > Math.abs(m) ? w : m), 0);
    assert.ok(largest > 0, 'largest entry positive');
  }
  for (let i = 0; i < a.components.length; i++) assert.ok(Math.abs(a.components[i] - b.components[i]) < 1e-6);
});

test('PCA rejects inconsistent shapes', () => {
  assert.throws(() => pca(new Float32Array(10), 3, 3), /expected 3x3/);
  assert.throws(() => pca(new Float32Array(9), 3, 3, 4), /k <= d/);
});

test('projection figure: one trace per class and panel, legend once', () => {
  const n = 40;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const features = knownData(n, d, u, v);
  const fig = projectionFigure([
    { title: 'SimCLR encoder', features, dim: d, labels },
    { title: 'random encoder', features, dim: d, labels },
  ], ['cat', 'dog']);
  const traces = fig.data as ScatterTrace[];
  assert.equal(traces.length, 4);
  assert.deepEqual(traces.map((t) => t.xaxis), ['x', 'x', 'x2', 'x2']);
  assert.deepEqual(traces.map((t) => t.showlegend), [true, true, false, false]);
  assert.equal(traces[0].x.length + traces[1].x.length, n);
  assert.equal(traces[0].marker?.color, traces[2].marker?.color, 'a class keeps its colour across panels');
});
