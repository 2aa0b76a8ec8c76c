/**
 * The CIFAR-10 binary release: file names, record layout and the conversion of its planar records
 * into the interleaved images the rest of the project uses.
 *
 * A record is 1 label byte followed by 3,072 pixel bytes: the red plane, then green, then blue,
 * each 32 x 32 row-major. Each batch file holds 10,000 records.
 */
import { DataError } from '../util/errors';

export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const NUM_CLASSES = 10;
/** pixel bytes of one image, H x W x C */
export const IMAGE_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS;
/** one label byte + the pixels */
export const RECORD_BYTES = 1 + IMAGE_BYTES;
export const RECORDS_PER_FILE = 10_000;
/** exact size of every batch file of the official release, bytes */
export const BATCH_FILE_BYTES = RECORDS_PER_FILE * RECORD_BYTES;
export const TRAIN_PER_CLASS = 5_000;
export const TEST_PER_CLASS = 1_000;

/** The folder the official archive unpacks into; `root` folders hold it. */
export const BATCHES_FOLDER = 'cifar-10-batches-bin';
export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_FILE = 'test_batch.bin';
export const BATCH_FILES = [...TRAIN_FILES, TEST_FILE];
/** optional: one class name per line */
export const META_FILE = 'batches.meta.txt';

export const OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const OFFICIAL_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** name of the downloaded archive inside the data root */
export const ARCHIVE_NAME = 'cifar-10-binary.tar.gz';

/** Class names in label order, used when batches.meta.txt is absent. */
export const DEFAULT_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/**
 * Checks one batch file's bytes: its size (exactly 10,000 records when `strict`, else any whole
 * number of records) and every label in 0-9. `where` names the file in the error message.
 */
export function checkBatchBytes(bytes: Uint8Array, where: string, strict: boolean): void {
  if (strict && bytes.byteLength !== BATCH_FILE_BYTES) {
    throw new DataError(
      `${where} has ${bytes.byteLength} bytes, expected ${BATCH_FILE_BYTES} (10,000 records of ${RECORD_BYTES} bytes): ` +
      'the file is truncated or not CIFAR-10 binary; download or import the data again',
    );
  }
  if (bytes.byteLength % RECORD_BYTES !== 0) {
    throw new DataError(
      `${where} has ${bytes.byteLength} bytes, not a whole number of ${RECORD_BYTES}-byte records: ` +
      'the file is truncated or not CIFAR-10 binary; download or import the data again',
    );
  }
  const count = bytes.byteLength / RECORD_BYTES;
  for (let i = 0; i < count; i++) {
    const label = bytes[i * RECORD_BYTES];
    if (label >= NUM_CLASSES) {
      throw new DataError(
        `${where} has label ${label} in record ${i}, expected 0-9: the file is corrupt or not CIFAR-10 binary; ` +
        'download or import the data again',
      );
    }
  }
}

/**
 * Copies `bytes` (whole records, already checked) into `images` [count, 32, 32, 3] interleaved and
 * `labels` [count], starting at image `offset`; returns the number of records copied.
 */
export function decodeRecords(bytes: Uint8Array, images: Uint8Array, labels: Uint8Array, offset: number): number {
  const count = bytes.byteLength / RECORD_BYTES;
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  for (let i = 0; i < count; i++) {
    const src = i * RECORD_BYTES;
    const dst = (offset + i) * IMAGE_BYTES;
    labels[offset + i] = bytes[src];
    // planar R..., G..., B... -> interleaved RGB per pixel
    for (let p = 0; p < plane; p++) {
      images[dst + p * 3] = bytes[src + 1 + p];
      images[dst + p * 3 + 1] = bytes[src + 1 + plane + p];
      images[dst + p * 3 + 2] = bytes[src + 1 + 2 * plane + p];
    }
  }
  return count;
}

/** Images per class among `labels`, indexed by class. */
export function countPerClass(labels: Uint8Array): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/** Class names from the text of batches.meta.txt: ten non-empty lines, else the standard list. */
export function parseClassNames(metaText: string | undefined): string[] {
  if (metaText === undefined) return [...DEFAULT_CLASS_NAMES];
  const names = metaText.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return names.length === NUM_CLASSES ? names : [...DEFAULT_CLASS_NAMES];
}
