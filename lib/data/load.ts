/**
 * Loading CIFAR-10 into memory as uint8 images (184 MB for all 60,000), converted from the planar
 * records to interleaved HWC once, so batches are plain copies.
 */
import { IMAGE_BYTES, countPerClass, decodeRecords } from './cifar-format';
import { SplitName, checkClassCounts, countRecords, findBatchesDir, readBatchFiles, readClassNames } from './batch-files';
import { noDataError } from './validate';

/** One split: `images` [count, 32, 32, 3] uint8 HWC, `labels` [count] in 0-9. */
export interface CifarSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface CifarDataset {
  train: CifarSplit;
  test: CifarSplit;
  /** names in label order */
  classNames: string[];
  /** first 16 hex digits of the sha256 of the six batch files; names the split files */
  fingerprint: string;
}

export interface LoadOptions {
  /** official sizes and class counts (default); false accepts any whole number of records (tests) */
  strict?: boolean;
}

function emptySplit(count: number): CifarSplit {
  return { images: new Uint8Array(count * IMAGE_BYTES), labels: new Uint8Array(count), count };
}

/** Loads and checks the data in `dir` (the `cifar-10-batches-bin` folder or its parent). */
export function loadCifar(dir: string, options: LoadOptions = {}): CifarDataset {
  const batchesDir = findBatchesDir(dir);
  if (batchesDir === undefined) throw noDataError(dir);
  const capacity = countRecords(batchesDir);
  const splits: Record<SplitName, CifarSplit> = { train: emptySplit(capacity.train), test: emptySplit(capacity.test) };
  const filled: Record<SplitName, number> = { train: 0, test: 0 };
  const fingerprint = readBatchFiles(batchesDir, options, (split, bytes) => {
    filled[split] += decodeRecords(bytes, splits[split].images, splits[split].labels, filled[split]);
  });
  const classNames = readClassNames(batchesDir);
  if (options.strict ?? true) {
    checkClassCounts('train', countPerClass(splits.train.labels), batchesDir, classNames);
    checkClassCounts('test', countPerClass(splits.test.labels), batchesDir, classNames);
  }
  return { train: splits.train, test: splits.test, classNames, fingerprint };
}
