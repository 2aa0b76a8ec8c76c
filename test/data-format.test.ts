import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import {
  DEFAULT_CLASS_NAMES, RECORD_BYTES, checkBatchBytes, decodeRecords, parseClassNames,
} from '../lib/data/cifar-format';
import { loadCifar, validateCifarDir } from '../lib/data';
import { DataError } from '../lib/util/errors';
import { makeTempDir, removeDir, writeSyntheticCifar } from './helpers/synthetic-cifar';

const temp = makeTempDir();
after(() => removeDir(temp));

/** One record whose pixel bytes say where they are: R plane 1, G plane 2, B plane 3, plus the pixel index. */
function markedRecord(label: number): Uint8Array {
  const record = new Uint8Array(RECORD_BYTES);
  record[0] = label;
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < 1024; p++) record[1 + ch * 1024 + p] = (ch + 1) * 60 + (p % 50);
  }
  return record;
}

test('records are converted from R, G, B planes to interleaved HWC pixels', () => {
  const bytes = new Uint8Array(2 * RECORD_BYTES);
  bytes.set(markedRecord(7), 0);
  bytes.set(markedRecord(2), RECORD_BYTES);
  const images = new Uint8Array(3 * 3072);
  const labels = new Uint8Array(3);
  assert.equal(decodeRecords(bytes, images, labels, 1), 2);
  assert.deepEqual(Array.from(labels), [0, 7, 2]);
  // pixel (row 1, column 3) = planar position 35 of image 1 -> HWC offset (1 * 32 + 3) * 3
  const at = 3072 + 35 * 3;
  assert.deepEqual(Array.from(images.subarray(at, at + 3)), [60 + 35, 120 + 35, 180 + 35]);
  assert.ok(images.subarray(0, 3072).every((v) => v === 0), 'image 0 was not written');
});

test('batch bytes: strict wants exactly 10,000 records, labels must be 0-9', () => {
  const one = markedRecord(3);
  assert.doesNotThrow(() => checkBatchBytes(one, 'a.bin', false));
  assert.throws(() => checkBatchBytes(one, 'a.bin', true), /a\.bin has 3073 bytes, expected 30730000/);
  assert.throws(() => checkBatchBytes(one.subarray(0, 3000), 'b.bin', false), /b\.bin has 3000 bytes, not a whole number/);
  const bad = markedRecord(10);
  assert.throws(() => checkBatchBytes(bad, 'c.bin', false), (err: Error) => err instanceof DataError && /c\.bin has label 10 in record 0/.test(err.message));
});

test('class names come from batches.meta.txt, else the standard list', () => {
  assert.deepEqual(parseClassNames(undefined), DEFAULT_CLASS_NAMES);
  assert.deepEqual(parseClassNames('a\nb\r\nc\nd\ne\nf\ng\nh\ni\nj\n\n'), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  assert.deepEqual(parseClassNames('only\nthree\nnames\n'), DEFAULT_CLASS_NAMES);
});

test('loadCifar reads synthetic files: counts, labels in order, pixels, fingerprint', () => {
  const root = path.join(temp, 'load');
  const data = writeSyntheticCifar(root, { trainPerClass: 6, testPerClass: 2, learnable: true });
  const dataset = loadCifar(root, { strict: false });
  assert.equal(dataset.train.count, 60);
  assert.equal(dataset.test.count, 20);
  assert.equal(dataset.train.images.length, 60 * 3072);
  assert.deepEqual(dataset.train.labels, data.trainLabels);
  assert.deepEqual(dataset.test.labels, data.testLabels);
  assert.deepEqual(dataset.classNames, DEFAULT_CLASS_NAMES);
  // first training image = first record of data_batch_1.bin, de-interleaved
  const record = fs.readFileSync(path.join(data.dir, 'data_batch_1.bin')).subarray(0, RECORD_BYTES);
  assert.equal(dataset.train.images[0], record[1]);
  assert.equal(dataset.train.images[1], record[1 + 1024]);
  assert.equal(dataset.train.images[3 * 1023 + 2], record[1 + 2048 + 1023]);
  assert.match(dataset.fingerprint, /^[0-9a-f]{16}$/);
  // the batches folder itself works as well as its parent, and validation agrees on the fingerprint
  assert.equal(loadCifar(data.dir, { strict: false }).fingerprint, dataset.fingerprint);
  assert.equal(validateCifarDir(root, { strict: false }).fingerprint, dataset.fingerprint);
  // strict loading rejects the small files, naming one
  assert.throws(() => loadCifar(root), /data_batch_1\.bin in .* has \d+ bytes, expected 30730000/);
});

test('the fingerprint changes when one pixel changes', () => {
  const root = path.join(temp, 'fingerprint');
  const data = writeSyntheticCifar(root, { trainPerClass: 2, testPerClass: 1 });
  const before = loadCifar(root, { strict: false }).fingerprint;
  const file = path.join(data.dir, 'test_batch.bin');
  const bytes = fs.readFileSync(file);
  bytes[100] ^= 1;
  fs.writeFileSync(file, bytes);
  assert.notEqual(loadCifar(root, { strict: false }).fingerprint, before);
});

test('missing data is a DataError that says how to get it', () => {
  assert.throws(() => loadCifar(path.join(temp, 'nothing-here')), (err: Error) =>
    err instanceof DataError && /no CIFAR-10 data in .*nothing-here/.test(err.message) && /cifar-ssl data/.test(err.message));
});
