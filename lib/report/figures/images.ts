import { PNG } from 'pngjs';
import type { Figure } from '../plotly-types';

/** A batch of images as stored on disk: uint8 pixels, row-major [n, height, width, channels]. */
export interface ImageBatch {
  pixels: Uint8Array;
  height: number;
  width: number;
  /** 3 for RGB, 1 for grayscale */
  channels: number;
}

/** One tile of a mosaic: image `index` of `batch`. */
export interface Tile {
  batch: ImageBatch;
  index: number;
}

const GAP = 2; // white pixels between tiles
const MIN_MOSAIC_WIDTH = 400; // screen pixels: small grids are zoomed up to about this width

/** Number of images in a batch. */
export function imageCount(batch: ImageBatch): number {
  return batch.pixels.length / (batch.height * batch.width * batch.channels);
}

/** An RGB picture, row-major [height, width, 3]. */
export interface RgbPicture {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * Lays tiles out as one RGB picture (rows of tiles, white gaps), so a whole grid is a single
 * plotly `image` trace instead of one subplot per image. All tiles must share one size.
 */
export function imageMosaic(grid: Tile[][]): RgbPicture {
  const { height: h, width: w } = grid[0][0].batch;
  const cols = Math.max(...grid.map((row) => row.length));
  const width = cols * (w + GAP) - GAP;
  const height = grid.length * (h + GAP) - GAP;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  grid.forEach((row, r) => row.forEach(({ batch, index }, c) => {
    if (batch.height !== h || batch.width !== w) throw new Error('imageMosaic: tiles differ in size');
    const ch = batch.channels;
    const base = index * h * w * ch;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = base + (y * w + x) * ch;
        const to = ((r * (h + GAP) + y) * width + c * (w + GAP) + x) * 3;
        // Grayscale tiles repeat their one channel as r, g and b.
        for (let k = 0; k < 3; k++) rgb[to + k] = batch.pixels[from + (ch === 1 ? 0 : k)];
      }
    }
  }));
  return { width, height, rgb };
}

/**
 * The picture as a PNG data URL. Figures carry mosaics this way (plotly's image `source`) rather
 * than as `z` arrays: a notebook saves its outputs as indented JSON, one number per line, which
 * made a few mosaics weigh megabytes.
 */
export function pngDataUrl(picture: RgbPicture): string {
  const png = new PNG({ width: picture.width, height: picture.height });
  for (let i = 0, j = 0; i < picture.rgb.length; i += 3, j += 4) {
    png.data[j] = picture.rgb[i];
    png.data[j + 1] = picture.rgb[i + 1];
    png.data[j + 2] = picture.rgb[i + 2];
    png.data[j + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** Centres of `count` tiles of `size` pixels along one axis of a mosaic. */
function tileCentres(count: number, size: number): number[] {
  return Array.from({ length: count }, (_, i) => i * (size + GAP) + (size - 1) / 2);
}

/** A mosaic figure with a label per row (left) and per column (top). */
function mosaicFigure(grid: Tile[][], title: string, rowLabels: string[], columnLabels: string[]): Figure {
  const { height: h, width: w } = grid[0][0].batch;
  const picture = imageMosaic(grid);
  const margin = { l: 110, r: 20, t: 90, b: 20 };
  // Screen pixels per image pixel in the static export: 2, or more for narrow grids.
  const zoom = Math.max(2, Math.ceil(MIN_MOSAIC_WIDTH / picture.width));
  return {
    data: [{ type: 'image', source: pngDataUrl(picture), hoverinfo: 'skip' }],
    layout: {
      title: { text: title },
      width: picture.width * zoom + margin.l + margin.r,
      height: picture.height * zoom + margin.t + margin.b,
      margin,
      xaxis: {
        side: 'top', tickvals: tileCentres(columnLabels.length, w), ticktext: columnLabels,
        showgrid: false, zeroline: false, ticks: '',
      },
      yaxis: {
        tickvals: tileCentres(rowLabels.length, h), ticktext: rowLabels,
        showgrid: false, zeroline: false, scaleanchor: 'x', ticks: '',
      },
    },
  };
}

/**
 * Sample images per class: one row per class, the first `perClass` images of that class in
 * batch order (the caller chooses which images by what it passes).
 * @param images [n, h, w, c] uint8; @param labels [n] class indices
 */
export function datasetSamplesFigure(
  images: ImageBatch, labels: ArrayLike<number>, classNames: string[], perClass = 8,
): Figure {
  const rows: Tile[][] = classNames.map(() => []);
  for (let i = 0; i < labels.length; i++) {
    const row = rows[labels[i]];
    if (row && row.length < perClass) row.push({ batch: images, index: i });
  }
  const kept = rows.map((row, c) => ({ row, name: classNames[c] })).filter(({ row }) => row.length > 0);
  if (kept.length === 0) throw new Error('datasetSamplesFigure: no images');
  const columns = Math.max(...kept.map(({ row }) => row.length));
  return mosaicFigure(
    kept.map(({ row }) => row),
    `CIFAR-10 samples (${columns} per class)`,
    kept.map(({ name }) => name),
    Array.from({ length: columns }, (_, i) => `#${i + 1}`),
  );
}

/**
 * SimCLR views: one row per image, columns original (when given), view 1, view 2. The two
 * views of a row are the positive pair the loss pulls together.
 * @param views1 [n, h, w, c] uint8; @param views2 same shape; @param originals same shape or undefined
 */
export function augmentationPairsFigure(
  views1: ImageBatch, views2: ImageBatch, originals?: ImageBatch,
): Figure {
  const n = imageCount(views1);
  if (imageCount(views2) !== n) throw new Error('augmentationPairsFigure: views differ in count');
  const grid: Tile[][] = Array.from({ length: n }, (_, i) => [
    ...(originals ? [{ batch: originals, index: i }] : []),
    { batch: views1, index: i },
    { batch: views2, index: i },
  ]);
  return mosaicFigure(
    grid,
    'SimCLR positive pairs (two random views)',
    Array.from({ length: n }, (_, i) => `image ${i + 1}`),
    [...(originals ? ['original'] : []), 'view 1', 'view 2'],
  );
}
