/**
 * Reading a `cifar-10-batches-bin` folder file by file, checking each file as it is read and
 * hashing the bytes into the dataset fingerprint. Validation and loading share this reader.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import {
  BATCHES_FOLDER, BATCH_FILES, META_FILE, RECORD_BYTES, TEST_FILE, TEST_PER_CLASS, TRAIN_FILES,
  TRAIN_PER_CLASS, checkBatchBytes, parseClassNames,
} from './cifar-format';

export type SplitName = 'train' | 'test';

/** How to read a batches folder. */
export interface ReadOptions {
  /** official sizes and class counts (default); false accepts any whole number of records (tests) */
  strict?: boolean;
  /** how error messages name the folder (default: the folder's path), e.g. "archive x.tar.gz" */
  where?: string;
}

/**
 * The batches folder of `dirOrRoot`: the folder itself when it holds any batch file, else its
 * `cifar-10-batches-bin` child when that does; undefined when neither.
 */
export function findBatchesDir(dirOrRoot: string): string | undefined {
  const holdsBatches = (dir: string): boolean => BATCH_FILES.some((file) => fs.existsSync(path.join(dir, file)));
  if (holdsBatches(dirOrRoot)) return dirOrRoot;
  const child = path.join(dirOrRoot, BATCHES_FOLDER);
  return holdsBatches(child) ? child : undefined;
}

/** A DataError naming the first of the six batch files missing in `dir`. */
function checkPresent(dir: string, where: string): void {
  const missing = BATCH_FILES.find((file) => !fs.existsSync(path.join(dir, file)));
  if (missing !== undefined) {
    throw new DataError(
      `${missing} is missing in ${where}: a CIFAR-10 binary copy has ${BATCH_FILES.join(', ')}; ` +
      'download or import the data again',
    );
  }
}

const splitOf = (file: string): SplitName => (file === TEST_FILE ? 'test' : 'train');

/** Records in each split according to the file sizes; a missing batch file is a DataError. */
export function countRecords(dir: string, where: string = dir): Record<SplitName, number> {
  checkPresent(dir, where);
  const counts: Record<SplitName, number> = { train: 0, test: 0 };
  for (const file of BATCH_FILES) counts[splitOf(file)] += Math.floor(fs.statSync(path.join(dir, file)).size / RECORD_BYTES);
  return counts;
}

/**
 * Reads the six batch files in order (training batches 1-5, then the test batch), checks each and
 * hands its bytes to `visit`; returns the fingerprint: the first 16 hex digits of the sha256 of
 * all six files' bytes in that order.
 */
export function readBatchFiles(
  dir: string,
  options: ReadOptions,
  visit: (split: SplitName, bytes: Uint8Array) => void,
): string {
  const where = options.where ?? dir;
  checkPresent(dir, where);
  const hash = createHash('sha256');
  for (const file of BATCH_FILES) {
    const bytes = fs.readFileSync(path.join(dir, file));
    checkBatchBytes(bytes, `${file} in ${where}`, options.strict ?? true);
    hash.update(bytes);
    visit(splitOf(file), bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Class names from batches.meta.txt when present, else the standard list. */
export function readClassNames(dir: string): string[] {
  const meta = path.join(dir, META_FILE);
  return parseClassNames(fs.existsSync(meta) ? fs.readFileSync(meta, 'utf8') : undefined);
}

/** Strict mode: 5,000 training and 1,000 test images of every class, else a DataError. */
export function checkClassCounts(split: SplitName, perClass: number[], where: string, classNames: string[]): void {
  const expected = split === 'train' ? TRAIN_PER_CLASS : TEST_PER_CLASS;
  const files = split === 'train' ? `${TRAIN_FILES[0]} to ${TRAIN_FILES[TRAIN_FILES.length - 1]} in ${where} have` : `${TEST_FILE} in ${where} has`;
  perClass.forEach((count, c) => {
    if (count !== expected) {
      throw new DataError(
        `${files} ${count} images of class ${c} (${classNames[c]}), expected ${expected}: ` +
        'not the CIFAR-10 release; download or import the data again',
      );
    }
  });
}
