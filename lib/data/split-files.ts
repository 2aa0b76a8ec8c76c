/**
 * The split files committed under data/splits, so every run and every reader uses the same
 * images: `<splitsDir>/<fingerprint>/validation<v>-splitseed<s>/` holds `validation.json` and
 * `labelled-<pct>pct-seed<seed>.json`, one field per line and the indices on one line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataConfig } from '../config/types';
import { writeFileAtomic } from '../util/atomic-write';
import { DataError } from '../util/errors';

/** One split as written to its file; indices are training-image indices, ascending. */
export type SplitRecord =
  | { kind: 'validation'; indices: Int32Array; classCounts: number[] }
  | { kind: 'labelled'; fraction: number; seed: number; indices: Int32Array; classCounts: number[] };

/** The folder of the split files of one dataset and one validation split. */
export function splitFolder(splitsDir: string, fingerprint: string, config: DataConfig): string {
  return path.join(splitsDir, fingerprint, `validation${config.validationPerClass}-splitseed${config.splitSeed}`);
}

/** Label fraction as a percentage without float noise: 0.01 -> "1". */
function percent(fraction: number): string {
  return String(Math.round(fraction * 100 * 1e6) / 1e6);
}

/** File name of a split: validation.json, labelled-10pct-seed0.json, ... */
export function splitFileName(record: SplitRecord): string {
  return record.kind === 'validation' ? 'validation.json' : `labelled-${percent(record.fraction)}pct-seed${record.seed}.json`;
}

function formatSplitFile(fingerprint: string, config: DataConfig, record: SplitRecord): string {
  const fields: Array<[string, unknown]> = [
    ['fingerprint', fingerprint],
    ['kind', record.kind],
    ['splitSeed', config.splitSeed],
    ['validationPerClass', config.validationPerClass],
  ];
  if (record.kind === 'labelled') fields.push(['fraction', record.fraction], ['seed', record.seed]);
  fields.push(['count', record.indices.length], ['classCounts', record.classCounts], ['indices', Array.from(record.indices)]);
  return `{\n${fields.map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n')}\n}\n`;
}

/** How many positions of `expected` the listed indices differ at (a length difference counts fully). */
function differences(listed: unknown, expected: Int32Array): number {
  if (!Array.isArray(listed)) return expected.length;
  let differ = Math.abs(listed.length - expected.length);
  for (let i = 0; i < Math.min(listed.length, expected.length); i++) if (listed[i] !== expected[i]) differ++;
  return differ;
}

/**
 * Compares `record` with its file in `folder` (a DataError when they disagree) or, when there is
 * no file yet, writes it atomically.
 */
export function checkOrWriteSplit(folder: string, fingerprint: string, config: DataConfig, record: SplitRecord): void {
  const file = path.join(folder, splitFileName(record));
  if (!fs.existsSync(file)) {
    writeFileAtomic(file, formatSplitFile(fingerprint, config, record));
    return;
  }
  let stored: { fingerprint?: unknown; indices?: unknown };
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof stored;
  } catch (err) {
    throw new DataError(`${file} is not valid JSON (${(err as Error).message}): restore it from git, or delete it to write it again`);
  }
  const differ = differences(stored.indices, record.indices);
  if (stored.fingerprint !== fingerprint || differ > 0) {
    throw new DataError(
      `${file} disagrees with the split computed from the data (${differ} of ${record.indices.length} indices differ): ` +
      'the file was edited or the split code changed; restore it from git, or delete it to write it again',
    );
  }
}
