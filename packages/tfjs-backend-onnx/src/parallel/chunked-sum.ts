/**
 * A chunked sum: one small ORT graph run over many chunks of the same inputs, its outputs summed
 * (the filter gradient is such a sum over images). The main thread and the helper threads share
 * out the chunks; this file holds what both sides run, so a chunk gives the same result wherever
 * it runs.
 *
 * ONNX Runtime's Node binding refuses views of a SharedArrayBuffer, and helper threads can see
 * nothing else, so a thread first writes a chunk's regions of the shared sources into memory of
 * its own (about 1 MiB, which then sits in its cache for the graph) and feeds views of that: a
 * plain copy of a run of a source, or images laid out on a padded grid (row-layout.ts).
 */
import type { GraphSpec } from '../proto';
import type { Feed, OrtRuntime } from '../runtime';
import { copyRows, rowRegionLength, type RowLayout } from './row-layout';

/** What a chunk reads of one source: a run of it, or some images laid out on a grid. */
export type ChunkRegion =
  | { kind: 'copy'; source: number; start: number; length: number }
  | { kind: 'rows'; source: number; layout: RowLayout; firstImage: number; images: number; phase: number };

/** Elements a region takes in a thread's own memory. */
export function regionLength(region: ChunkRegion): number {
  return region.kind === 'copy' ? region.length : rowRegionLength(region.layout, region.images);
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

/** Elements of a thread's own memory that a chunk's regions take. */
export function chunkCopyElements(chunk: Chunk): number {
  return chunk.regions.reduce((sum, region) => sum + regionLength(region), 0);
}

/** Whether a chunk can be fed views of its sources as they are (only plain runs, sources ORT accepts). */
export function feedsInPlace(chunk: Chunk, sources: readonly Float32Array[]): boolean {
  return chunk.regions.every((region) => region.kind === 'copy' && sources[region.source] !== undefined && !(sources[region.source].buffer instanceof SharedArrayBuffer));
}

function checkRegion(region: ChunkRegion, source: Float32Array | undefined, index: number): void {
  if (source === undefined) throw new RangeError(`chunk region ${index} reads source ${region.source}, which the job does not have`);
  const [start, end] = region.kind === 'copy'
    ? [region.start, region.start + region.length]
    : [region.firstImage * region.layout.height * region.layout.width * region.layout.channels,
      (region.firstImage + region.images) * region.layout.height * region.layout.width * region.layout.channels];
  if (start < 0 || end > source.length) {
    throw new RangeError(`chunk region ${index} reads [${start}, ${end}) of source ${region.source}, which has ${source.length} elements`);
  }
}

/**
 * The feeds of `chunk`: views of `sources` themselves when `into` is undefined (see
 * feedsInPlace), else views of its regions written one after another into `into`.
 */
export function chunkFeeds(chunk: Chunk, sources: readonly Float32Array[], into?: Float32Array): Feed[] {
  const regionBase: number[] = [];
  let base = 0;
  chunk.regions.forEach((region, index) => {
    const source = sources[region.source];
    checkRegion(region, source, index);
    if (into === undefined) {
      if (region.kind !== 'copy') throw new Error(`chunk region ${index} lays out rows: it needs memory to be written into`);
      regionBase.push(region.start);
      return;
    }
    if (region.kind === 'copy') into.set(source.subarray(region.start, region.start + region.length), base);
    else copyRows(source, into, base, region.layout, region.firstImage, region.images, region.phase);
    regionBase.push(base);
    base += regionLength(region);
  });
  return chunk.feeds.map((feed) => {
    const region = chunk.regions[feed.region];
    const length = elements(feed.dims);
    if (region === undefined) throw new RangeError(`feed ${feed.name} reads region ${feed.region}, which the chunk does not have`);
    if (feed.offset < 0 || feed.offset + length > regionLength(region)) {
      throw new RangeError(`feed ${feed.name} [${feed.offset}, ${feed.offset + length}) lies outside its region of ${regionLength(region)} elements`);
    }
    const memory = into ?? sources[region.source];
    const start = regionBase[feed.region] + feed.offset;
    return { name: feed.name, data: memory.subarray(start, start + length), dims: feed.dims };
  });
}

/**
 * Runs chunk `index` of `job` and writes its output to `results` at `index * outputSize`.
 * `memory` is the thread's own buffer for the chunk's regions, grown as needed and returned.
 */
export function runChunk(
  runtime: OrtRuntime, job: ChunkedSumJob, index: number, sources: readonly Float32Array[], results: Float32Array, memory: Float32Array,
): Float32Array {
  const chunk = job.chunks[index];
  const spec = job.graphs[chunk.key];
  if (spec === undefined) throw new Error(`chunked sum: no graph given for key ${chunk.key}`);
  let into: Float32Array | undefined;
  if (!feedsInPlace(chunk, sources)) {
    const needed = chunkCopyElements(chunk);
    if (memory.length < needed) memory = new Float32Array(Math.ceil(needed * 1.25));
    into = memory;
  }
  const [output] = runtime.run(chunk.key, () => spec, chunkFeeds(chunk, sources, into), [job.outputName]) as Float32Array[];
  if (output.length !== job.outputSize) {
    throw new Error(`chunked sum: graph ${chunk.key} gave ${output.length} elements, not ${job.outputSize}`);
  }
  results.set(output, index * job.outputSize);
  return memory;
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
