/**
 * Chunked sums shared out with helper threads (lib/backend/onnx/parallel): the same bits whether
 * one thread or two run the chunks, the helper really takes chunks, errors on either side surface
 * with their reason and leave the runner usable. Skipped when onnxruntime-node cannot load.
 */
import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ChunkedSumJob } from '../lib/backend/onnx/parallel/chunked-sum';
import { ChunkedSumRunner } from '../lib/backend/onnx/parallel/helper-threads';
import type { GraphSpec } from '../lib/backend/onnx/proto';
import { loadOrtRuntime, type OrtRuntime } from '../lib/backend/onnx/runtime';
import { Rng } from '../lib/util/random';

function tryRuntime(): OrtRuntime | undefined {
  try {
    return loadOrtRuntime({ threads: 1, wideThreads: 1, spinning: false });
  } catch {
    return undefined;
  }
}
const runtime = tryRuntime();

/** a [rows, k]^T x [rows, n] product: the shape of one filter-gradient tap */
function productGraph(rows: number, k: number, n: number): GraphSpec {
  return {
    nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['c'], attrs: { transA: 1 } }],
    inputs: [{ name: 'a', type: 'float', shape: [rows, k] }, { name: 'b', type: 'float', shape: [rows, n] }],
    outputs: [{ name: 'c', type: 'float', shape: [k, n] }],
  };
}

const [K, N] = [8, 16];

/**
 * sum over chunks of A_c^T B_c, where chunk c's A is a window of source 0 starting `shift` rows
 * into its region (overlapping the next chunk's rows, as the filter gradient's taps do)
 */
function productJob(chunks: number, rows: number, shift: number, lastRows = rows): ChunkedSumJob {
  const job: ChunkedSumJob = { graphs: {}, chunks: [], outputName: 'c', outputSize: K * N };
  for (let c = 0; c < chunks; c++) {
    const r = c === chunks - 1 ? lastRows : rows;
    const key = `product|${r}`;
    job.graphs[key] = productGraph(r, K, N);
    job.chunks.push({
      key,
      regions: [{ source: 0, start: c * rows * K, length: (r + shift) * K }, { source: 1, start: c * rows * N, length: r * N }],
      feeds: [{ name: 'a', region: 0, offset: shift * K, dims: [r, K] }, { name: 'b', region: 1, offset: 0, dims: [r, N] }],
    });
  }
  return job;
}

function fill(runner: ChunkedSumRunner, totalRows: number, seed: number): { a: Float32Array; b: Float32Array } {
  const rng = new Rng(seed);
  // The runner may hand out longer buffers than asked for: fill just the part asked for.
  const a = runner.source(0, totalRows * K).subarray(0, totalRows * K);
  const b = runner.source(1, totalRows * N).subarray(0, totalRows * N);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  for (let i = 0; i < b.length; i++) b[i] = rng.normal();
  return { a: a.slice(), b: b.slice() };
}

/** The sum in float64, straight from the definition. */
function reference(a: Float32Array, b: Float32Array, rows: number, shift: number): Float64Array {
  const sum = new Float64Array(K * N);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < N; j++) sum[i * N + j] += a[(r + shift) * K + i] * b[r * N + j];
    }
  }
  return sum;
}

describe('chunked sums on helper threads', { skip: runtime === undefined ? 'onnxruntime-node unavailable' : false }, () => {
  const rt = runtime as OrtRuntime;
  const alone = new ChunkedSumRunner(rt, 0);
  const shared = new ChunkedSumRunner(rt, 1);
  after(() => {
    shared.dispose();
    alone.dispose();
  });

  test('one thread and two give the same bits, close to the float64 sum', () => {
    const [chunks, rows, shift, lastRows] = [48, 600, 3, 250];
    const totalRows = (chunks - 1) * rows + lastRows + shift;
    const inputs = fill(alone, totalRows, 7);
    fill(shared, totalRows, 7);
    const job = productJob(chunks, rows, shift, lastRows);
    const single = alone.sum(job, [0, 1]);
    const split = shared.sum(job, [0, 1]);
    assert.equal(shared.activeHelpers, 1, shared.helperFailure);
    assert.equal(alone.activeHelpers, 0);
    assert.deepEqual(split, single);
    const expected = reference(inputs.a, inputs.b, (chunks - 1) * rows + lastRows, shift);
    const scale = Math.max(...expected.map(Math.abs));
    expected.forEach((value, i) => assert.ok(Math.abs(split[i] - value) <= 1e-5 * scale, `element ${i}: ${split[i]} vs ${value}`));
  });

  test('the helper thread runs a share of the chunks', () => {
    const [chunks, rows] = [64, 4000];
    fill(shared, chunks * rows + 1, 3);
    shared.sum(productJob(chunks, rows, 1), [0, 1]);
    assert.ok(shared.lastJobMainChunks < chunks, `the main thread ran all ${chunks} chunks`);
    assert.ok(shared.lastJobMainChunks > 0, 'the main thread ran no chunk');
  });

  test('a bad chunk fails with its reason, on either thread, and the runner goes on working', () => {
    const [chunks, rows] = [8, 100];
    fill(shared, chunks * rows + 1, 5);
    const bad = productJob(chunks, rows, 1);
    // Every chunk reads past its region, so whichever thread claims one fails.
    for (const chunk of bad.chunks) chunk.feeds[0].offset = 2 * K;
    assert.throws(() => shared.sum(bad, [0, 1]), /feed a .* lies outside its region/);
    const missing = productJob(chunks, rows, 1);
    missing.graphs = {};
    assert.throws(() => alone.sum(missing, [0, 1]), /no graph given for key product\|100/);
    assert.throws(() => shared.sum(productJob(2, rows, 1), [0, 7]), /source slot 7 was never filled/);
    const good = productJob(chunks, rows, 1);
    fill(alone, chunks * rows + 1, 5);
    assert.deepEqual(shared.sum(good, [0, 1]), alone.sum(good, [0, 1]));
  });
});
