/**
 * Chunked sums shared out with helper threads (src/parallel): the same bits whether
 * one thread or two run the chunks, the helper really takes chunks, errors on either side surface
 * with their reason and leave the runner usable. Skipped when onnxruntime-node cannot load.
 */
import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ChunkedSumJob } from '../src/parallel/chunked-sum';
import { ChunkedSumRunner } from '../src/parallel/helper-threads';
import { copyRows, rowRegionLength, type RowLayout } from '../src/parallel/row-layout';
import type { GraphSpec } from '../src/proto';
import { loadOrtRuntime, type OrtRuntime } from '../src/runtime';
import { Rng } from './helpers/random';

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
      regions: [{ kind: 'copy', source: 0, start: c * rows * K, length: (r + shift) * K }, { kind: 'copy', source: 1, start: c * rows * N, length: r * N }],
      feeds: [{ name: 'a', region: 0, offset: shift * K, dims: [r, K] }, { name: 'b', region: 1, offset: 0, dims: [r, N] }],
    });
  }
  return job;
}

function randomSources(totalRows: number, seed: number): [Float32Array, Float32Array] {
  const rng = new Rng(seed);
  const a = new Float32Array(totalRows * K).map(() => rng.normal());
  const b = new Float32Array(totalRows * N).map(() => rng.normal());
  return [a, b];
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
    const sources = randomSources(totalRows, 7);
    const job = productJob(chunks, rows, shift, lastRows);
    const single = alone.sum(job, sources);
    const split = shared.sum(job, sources);
    assert.equal(shared.activeHelpers, 1, shared.helperFailure);
    assert.equal(alone.activeHelpers, 0);
    assert.deepEqual(split, single);
    const expected = reference(sources[0], sources[1], (chunks - 1) * rows + lastRows, shift);
    const scale = Math.max(...expected.map(Math.abs));
    expected.forEach((value, i) => assert.ok(Math.abs(split[i] - value) <= 1e-5 * scale, `element ${i}: ${split[i]} vs ${value}`));
  });

  test('the helper thread runs a share of the chunks', () => {
    const [chunks, rows] = [64, 4000];
    const sources = randomSources(chunks * rows + 1, 3);
    // The helper has to wake up before the main thread has claimed every chunk, which a busy
    // machine can delay now and then: up to five jobs.
    const mainChunks: number[] = [];
    do {
      shared.sum(productJob(chunks, rows, 1), sources);
      mainChunks.push(shared.lastJobMainChunks);
    } while (shared.lastJobMainChunks === chunks && mainChunks.length < 5);
    assert.ok(shared.lastJobMainChunks < chunks, `the main thread ran all ${chunks} chunks of each of ${mainChunks.length} jobs`);
    assert.ok(shared.lastJobMainChunks > 0, 'the main thread ran no chunk');
  });

  test('a bad chunk fails with its reason, on either thread, and the runner goes on working', () => {
    const [chunks, rows] = [8, 100];
    const sources = randomSources(chunks * rows + 1, 5);
    const bad = productJob(chunks, rows, 1);
    // Every chunk reads past its region, so whichever thread claims one fails.
    for (const chunk of bad.chunks) chunk.feeds[0].offset = 2 * K;
    assert.throws(() => shared.sum(bad, sources), /feed a .* lies outside its region/);
    const missing = productJob(chunks, rows, 1);
    missing.graphs = {};
    assert.throws(() => alone.sum(missing, sources), /no graph given for key product\|100/);
    assert.throws(() => shared.sum(productJob(chunks, rows, 1), [sources[0]]), /reads source 1, which the job does not have/);
    assert.throws(() => shared.sum(productJob(chunks + 1, rows, 1), sources), /reads \[\d+, \d+\) of source 0, which has 6408 elements/);
    const good = productJob(chunks, rows, 1);
    assert.deepEqual(shared.sum(good, sources), alone.sum(good, sources));
  });
});

test('copyRows lays out images on the padded grid, in row phases, zeros everywhere else', () => {
  const [n, h, w, c] = [3, 5, 4, 2];
  const src = new Float32Array(n * h * w * c).map((_, i) => i + 1);
  const at = (image: number, row: number, column: number, channel: number) => src[((image * h + row) * w + column) * c + channel];
  for (const stride of [1, 2]) {
    for (const [top, left] of [[1, 1], [0, 0], [2, 1]]) {
      const gridHeight = Math.ceil((h + top + 1) / stride);
      const layout: RowLayout = { height: h, width: w, channels: c, stride, top, left, gridHeight, rowPixels: w + left + 1, tailElements: 7 };
      for (let phase = 0; phase < stride; phase++) {
        const [first, images] = [1, 2];
        const dst = new Float32Array(rowRegionLength(layout, images) + 6).fill(Number.NaN);
        copyRows(src, dst, 3, layout, first, images, phase);
        const expected = new Float32Array(rowRegionLength(layout, images));
        for (let image = 0; image < images; image++) {
          for (let i = 0; i < gridHeight; i++) {
            for (let j = 0; j < layout.rowPixels; j++) {
              const [row, column] = [stride * i + phase - top, j - left];
              if (row < 0 || row >= h || column < 0 || column >= w) continue;
              for (let k = 0; k < c; k++) expected[((image * gridHeight + i) * layout.rowPixels + j) * c + k] = at(first + image, row, column, k);
            }
          }
        }
        const label = `stride ${stride}, top ${top}, left ${left}, phase ${phase}`;
        assert.deepEqual(dst.subarray(3, 3 + expected.length), expected, label);
        assert.ok(Number.isNaN(dst[2]) && Number.isNaN(dst[3 + expected.length]), `${label}: wrote outside its region`);
      }
    }
  }
  // Columns past the grid row ('valid' convolutions never read them) are left out.
  const narrow: RowLayout = { height: h, width: w, channels: c, stride: 1, top: 0, left: 1, gridHeight: h, rowPixels: 3, tailElements: 0 };
  const cropped = new Float32Array(rowRegionLength(narrow, 1) + 1).fill(Number.NaN);
  copyRows(src, cropped, 0, narrow, 0, 1, 0);
  assert.deepEqual([...cropped.subarray(0, 6)], [0, 0, at(0, 0, 0, 0), at(0, 0, 0, 1), at(0, 0, 1, 0), at(0, 0, 1, 1)]);
  assert.deepEqual([...cropped.subarray(6, 8)], [0, 0], 'the next grid row starts with its left border');
  assert.ok(Number.isNaN(cropped[rowRegionLength(narrow, 1)]));
  assert.throws(() => copyRows(src, cropped, 0, { ...narrow, left: 3 }, 0, 1, 0), /a grid row of 3 pixels has no room for pixels from column 3/);
});
