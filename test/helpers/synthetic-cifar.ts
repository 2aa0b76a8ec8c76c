/**
 * Synthetic CIFAR-10 data in the exact binary layout of the official release, for tests.
 *
 *   const root = makeTempDir();
 *   const data = writeSyntheticCifar(root, { trainPerClass: 20, testPerClass: 5, learnable: true });
 *   const dataset = loadCifar(data.dir, { strict: false });
 *   const archive = await makeTarGz(root, path.join(root, 'cifar.tar.gz'));
 *
 * `valid: true` writes full-size files (5,000 / 1,000 images per class, 184 MB) that pass the
 * strict validation of an import. `learnable: true` gives each class its own colour and stripe
 * pattern (plus noise), so a tiny model reaches high accuracy in a few steps.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import {
  BATCHES_FOLDER, DEFAULT_CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, RECORDS_PER_FILE, RECORD_BYTES, TEST_FILE,
  TEST_PER_CLASS, TRAIN_FILES, TRAIN_PER_CLASS,
} from '../../lib/data/cifar-format';
import { Rng } from '../../lib/util/random';

export interface SyntheticCifarOptions {
  /** training images per class (default 10); ignored when `valid` */
  trainPerClass?: number;
  /** test images per class (default 4); ignored when `valid` */
  testPerClass?: number;
  /** full-size batch files with the official counts, passing strict validation */
  valid?: boolean;
  /** each class gets a distinctive colour and stripe pattern, so tiny models can learn it */
  learnable?: boolean;
  /** seed of the label order and the pixels (default 0) */
  seed?: number;
  /** write batches.meta.txt (default true) */
  meta?: boolean;
}

export interface SyntheticCifar {
  /** the folder holding cifar-10-batches-bin (pass it as a data root) */
  root: string;
  /** the cifar-10-batches-bin folder */
  dir: string;
  /** labels in dataset order, as written */
  trainLabels: Uint8Array;
  testLabels: Uint8Array;
}

/** A fresh temporary folder; remove it with `removeDir`. */
export function makeTempDir(prefix = 'cifar-ssl-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Distinct colours, one per class (RGB). */
const PALETTE: Array<[number, number, number]> = [
  [230, 40, 40], [40, 200, 40], [40, 60, 230], [230, 220, 40], [220, 40, 220],
  [40, 220, 220], [140, 80, 20], [250, 250, 250], [20, 20, 20], [128, 128, 128],
];
const PLANE = IMAGE_SIZE * IMAGE_SIZE;
const PIXELS = 3 * PLANE;

/** Per-class planar templates: the class colour with stripes (even classes horizontal, odd vertical, widths by class). */
const TEMPLATES = PALETTE.map(([r, g, b], label) => {
  const template = new Int16Array(PIXELS);
  for (let p = 0; p < PLANE; p++) {
    const along = label % 2 === 0 ? Math.floor(p / IMAGE_SIZE) : p % IMAGE_SIZE;
    const stripe = Math.floor(along / (1 + (label >> 1))) % 2 === 0 ? 40 : -40;
    template[p] = r + stripe;
    template[PLANE + p] = g + stripe;
    template[2 * PLANE + p] = b + stripe;
  }
  return template;
});

/** A diagonal gradient, added to plain images so each is more than a flat colour. */
const GRADIENT = Uint8Array.from({ length: PIXELS }, (_, p) => 3 * (p % IMAGE_SIZE) + 2 * Math.floor((p % PLANE) / IMAGE_SIZE));

/** Pixel noise in [-16, 16]; each image reads it from a random offset (per-pixel draws would be slow at 184 MB). */
const NOISE_SIZE = 1 << 16;
const NOISE = (() => {
  const rng = new Rng(12345);
  return Int8Array.from({ length: NOISE_SIZE + PIXELS }, () => rng.int(33) - 16);
})();

/**
 * Writes one planar record (label byte, then R, G, B planes) at `offset` of `out`. Plain images
 * are a random colour plus a gradient; learnable ones the class template plus pixel noise.
 */
export function writeRecord(out: Uint8Array, offset: number, label: number, rng: Rng, learnable: boolean): void {
  out[offset] = label;
  const pixels = out.subarray(offset + 1, offset + 1 + PIXELS);
  if (learnable) {
    const template = TEMPLATES[label];
    const start = rng.int(NOISE_SIZE);
    for (let p = 0; p < PIXELS; p++) {
      const value = template[p] + NOISE[start + p];
      pixels[p] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  } else {
    for (let ch = 0; ch < 3; ch++) {
      const base = rng.int(256);
      for (let p = ch * PLANE; p < (ch + 1) * PLANE; p++) pixels[p] = (base + GRADIENT[p]) & 255;
    }
  }
}

/** `perClass` copies of each label 0-9 in a seeded random order. */
function shuffledLabels(perClass: number, rng: Rng): Uint8Array {
  const labels = Array.from({ length: perClass * NUM_CLASSES }, (_, i) => i % NUM_CLASSES);
  return Uint8Array.from(rng.shuffle(labels));
}

function recordsBytes(labels: Uint8Array, rng: Rng, learnable: boolean): Buffer {
  const bytes = Buffer.alloc(labels.length * RECORD_BYTES);
  labels.forEach((label, i) => writeRecord(bytes, i * RECORD_BYTES, label, rng, learnable));
  return bytes;
}

/** Writes `<root>/cifar-10-batches-bin` with synthetic batch files (training records spread over the five). */
export function writeSyntheticCifar(root: string, options: SyntheticCifarOptions = {}): SyntheticCifar {
  const rng = new Rng(options.seed ?? 0);
  const trainPerClass = options.valid ? TRAIN_PER_CLASS : options.trainPerClass ?? 10;
  const testPerClass = options.valid ? TEST_PER_CLASS : options.testPerClass ?? 4;
  const learnable = options.learnable ?? false;
  const dir = path.join(root, BATCHES_FOLDER);
  fs.mkdirSync(dir, { recursive: true });

  const trainLabels = shuffledLabels(trainPerClass, rng);
  const perFile = options.valid ? RECORDS_PER_FILE : Math.ceil(trainLabels.length / TRAIN_FILES.length);
  TRAIN_FILES.forEach((file, f) => {
    const labels = trainLabels.subarray(Math.min(f * perFile, trainLabels.length), Math.min((f + 1) * perFile, trainLabels.length));
    fs.writeFileSync(path.join(dir, file), recordsBytes(labels, rng, learnable));
  });
  const testLabels = shuffledLabels(testPerClass, rng);
  fs.writeFileSync(path.join(dir, TEST_FILE), recordsBytes(testLabels, rng, learnable));
  if (options.meta ?? true) fs.writeFileSync(path.join(dir, 'batches.meta.txt'), DEFAULT_CLASS_NAMES.join('\n') + '\n\n');
  return { root, dir, trainLabels, testLabels };
}

/** Packs `<root>/cifar-10-batches-bin` into a .tar.gz laid out like the official archive. */
export async function makeTarGz(root: string, archive: string, options: { gzipLevel?: number } = {}): Promise<string> {
  await tar.c({ gzip: { level: options.gzipLevel ?? 1 }, file: archive, cwd: root, portable: true }, [BATCHES_FOLDER]);
  return archive;
}
