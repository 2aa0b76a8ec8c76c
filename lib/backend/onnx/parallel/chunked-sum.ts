/**
 * A chunked sum: one small ORT graph run over many chunks of the same inputs, its outputs summed
 * (the filter gradient is such a sum over images). The main thread and the helper threads share
 * out the chunks; this file holds what both sides run, so a chunk gives the same result wherever
 * it runs.
 *
 * ONNX Runtime's Node binding refuses views of a SharedArrayBuffer, and helper threads can see
 * nothing else, so a thread first copies a chunk's regions of the shared sources into memory of
 * its own (about 1 MiB, which then sits in its cache for the graph) and feeds views of that copy.
 */
import type { GraphSpec } from '../proto';
import type { Feed, OrtRuntime } from '../runtime';

/** A run of one source buffer a chunk reads. */
export interface ChunkRegion {
  /** index into the job's sources */
  source: number;
  start: number;
  length: number;
}

/** One graph input: a window of one of the chunk's regions. */
export interface ChunkFeed {
  name: string;
  region: number;
  /** first element, counted from the region's start */
  offset: number;
  dims: number[];
}

/** One graph run of a chunked sum. */
export interface Chunk {
  /** graph cache key (the job's `graphs` holds its spec) */
  key: string;
  regions: ChunkRegion[];
  feeds: ChunkFeed[];
}

/** A whole chunked sum: every chunk's single output has `outputSize` elements. */
export interface ChunkedSumJob {
  graphs: Record<string, GraphSpec>;
  chunks: Chunk[];
  outputName: string;
  outputSize: number;
}

function elements(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Elements of private memory the copy of a chunk's regions takes. */
export function chunkCopyElements(chunk: Chunk): number {
  return chunk.regions.reduce((sum, region) => sum + region.length, 0);
}

/**
 * The feeds of `chunk`: views of `sources` directly when `copyInto` is undefined (sources the
 * binding accepts), else views of a copy of the regions laid end to end in `copyInto`.
 */
export function chunkFeeds(chunk: Chunk, sources: readonly Float32Array[], copyInto?: Float32Array): Feed[] {
  const regionBase: number[] = [];
  let base = 0;
  for (const region of chunk.regions) {
    const source = sources[region.source];
    if (region.start < 0 || region.start + region.length > source.length) {
      throw new RangeError(`chunk region [${region.start}, ${region.start + region.length}) lies outside source ${region.source} of ${source.length} elements`);
    }
    if (copyInto !== undefined) {
      copyInto.set(source.subarray(region.start, region.start + region.length), base);
      regionBase.push(base);
      base += region.length;
    }
  }
  return chunk.feeds.map((feed) => {
    const region = chunk.regions[feed.region];
    const length = elements(feed.dims);
    if (feed.offset < 0 || feed.offset + length > region.length) {
      throw new RangeError(`feed ${feed.name} [${feed.offset}, ${feed.offset + length}) lies outside its region of ${region.length} elements`);
    }
    const data = copyInto === undefined
      ? sources[region.source].subarray(region.start + feed.offset, region.start + feed.offset + length)
      : copyInto.subarray(regionBase[feed.region] + feed.offset, regionBase[feed.region] + feed.offset + length);
    return { name: feed.name, data, dims: feed.dims };
  });
}

/** Runs chunk `index` of `job` and writes its output to `results` at `index * outputSize`. */
export function runChunk(
  runtime: OrtRuntime, job: ChunkedSumJob, index: number, sources: readonly Float32Array[], results: Float32Array, copyInto?: Float32Array,
): void {
  const chunk = job.chunks[index];
  const spec = job.graphs[chunk.key];
  if (spec === undefined) throw new Error(`chunked sum: no graph given for key ${chunk.key}`);
  const [output] = runtime.run(chunk.key, () => spec, chunkFeeds(chunk, sources, copyInto), [job.outputName]) as Float32Array[];
  if (output.length !== job.outputSize) {
    throw new Error(`chunked sum: graph ${chunk.key} gave ${output.length} elements, not ${job.outputSize}`);
  }
  results.set(output, index * job.outputSize);
}

/**
 * Adds the chunks' outputs in chunk order (0 + r0 + r1 + ...), so the sum is the same number
 * whichever thread ran which chunk.
 */
export function sumChunkResults(results: Float32Array, chunks: number, outputSize: number): Float32Array {
  const sum = new Float32Array(outputSize);
  for (let c = 0; c < chunks; c++) {
    const base = c * outputSize;
    for (let i = 0; i < outputSize; i++) sum[i] += results[base + i];
  }
  return sum;
}
