/**
 * Validation of a CIFAR-10 binary folder without keeping its images: every import and `info` run
 * it before the data is used.
 */
import { DataError } from '../util/errors';
import { NUM_CLASSES, RECORD_BYTES } from './cifar-format';
import { ReadOptions, SplitName, checkClassCounts, findBatchesDir, readBatchFiles, readClassNames } from './batch-files';

/** What a valid folder holds. */
export interface CifarSummary {
  /** the `cifar-10-batches-bin` folder */
  dir: string;
  trainCount: number;
  testCount: number;
  /** images per class, indexed by label */
  trainPerClass: number[];
  testPerClass: number[];
  classNames: string[];
  /** first 16 hex digits of the sha256 of the six batch files */
  fingerprint: string;
}

/** Error for a folder that holds no batches folder at all. */
export function noDataError(dirOrRoot: string): DataError {
  return new DataError(
    `no CIFAR-10 data in ${dirOrRoot} (expected ${dirOrRoot}/cifar-10-batches-bin/data_batch_1.bin and the rest): ` +
    'run `npx cifar-ssl data`, or `npx cifar-ssl data --from PATH` with a local copy',
  );
}

/**
 * Checks a CIFAR-10 binary folder (`dirOrRoot` is the batches folder or its parent): all six
 * files, their sizes, labels 0-9 and, when strict, 5,000 / 1,000 images per class.
 */
export function validateCifarDir(dirOrRoot: string, options: ReadOptions = {}): CifarSummary {
  const dir = findBatchesDir(dirOrRoot);
  if (dir === undefined) throw noDataError(dirOrRoot);
  const where = options.where ?? dir;
  const perClass: Record<SplitName, number[]> = {
    train: new Array<number>(NUM_CLASSES).fill(0),
    test: new Array<number>(NUM_CLASSES).fill(0),
  };
  const fingerprint = readBatchFiles(dir, { ...options, where }, (split, bytes) => {
    for (let i = 0; i < bytes.byteLength; i += RECORD_BYTES) perClass[split][bytes[i]]++;
  });
  const classNames = readClassNames(dir);
  if (options.strict ?? true) {
    checkClassCounts('train', perClass.train, where, classNames);
    checkClassCounts('test', perClass.test, where, classNames);
  }
  const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);
  return {
    dir,
    trainCount: sum(perClass.train),
    testCount: sum(perClass.test),
    trainPerClass: perClass.train,
    testPerClass: perClass.test,
    classNames,
    fingerprint,
  };
}
