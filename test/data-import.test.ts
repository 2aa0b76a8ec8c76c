import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BATCH_FILES, ensureData, importCifar, validateCifarDir } from '../lib/data';
import { md5OfFile } from '../lib/data/checksum';
import { DataError } from '../lib/util/errors';
import { makeTarGz, makeTempDir, removeDir, writeSyntheticCifar } from './helpers/synthetic-cifar';

const temp = makeTempDir();
/** full-size synthetic data that passes strict validation, as a folder and as an archive */
let validRoot = '';
let validArchive = '';
let validFingerprint = '';
/** a data root holding an imported good copy, which every failed import must leave as it is */
let goodRoot = '';

before(async () => {
  validRoot = path.join(temp, 'valid');
  writeSyntheticCifar(validRoot, { valid: true });
  validArchive = await makeTarGz(validRoot, path.join(temp, 'valid.tar.gz'));
  validFingerprint = validateCifarDir(validRoot).fingerprint;
  goodRoot = path.join(temp, 'good');
  await importCifar(path.join(validRoot, 'cifar-10-batches-bin'), goodRoot);
});
after(() => removeDir(temp));

/** Identity of the installed folder and its files: any replacement or rewrite changes it. */
function snapshot(root: string): string {
  const dir = path.join(root, 'cifar-10-batches-bin');
  const files = fs.readdirSync(dir).sort().map((name) => {
    const stat = fs.statSync(path.join(dir, name));
    return `${name}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  });
  return [fs.statSync(dir).ino, ...files, ...fs.readdirSync(root).sort()].join('|');
}

/** A copy of the valid batches folder (hard links, cheap) with `change` applied to it. */
function variant(name: string, change: (dir: string) => void): string {
  const dir = path.join(temp, name, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of fs.readdirSync(path.join(validRoot, 'cifar-10-batches-bin'))) {
    fs.linkSync(path.join(validRoot, 'cifar-10-batches-bin', file), path.join(dir, file));
  }
  change(dir);
  return path.join(temp, name);
}

/** Replaces a hard link by a changed private copy, so the valid original stays valid. */
function rewrite(file: string, edit: (bytes: Buffer) => Buffer): void {
  const bytes = edit(fs.readFileSync(file));
  fs.unlinkSync(file);
  fs.writeFileSync(file, bytes);
}

/** Asserts the import fails with a DataError matching `message` and leaves the good copy alone. */
async function rejects(source: string, message: RegExp): Promise<void> {
  const before = snapshot(goodRoot);
  await assert.rejects(importCifar(source, goodRoot), (err: Error) => {
    assert.ok(err instanceof DataError, `not a DataError: ${err.stack}`);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'the message is one line');
    return true;
  });
  assert.equal(snapshot(goodRoot), before, 'the existing data folder changed');
}

test('importing an archive validates it and warns that its md5 is not the official one', async () => {
  const root = path.join(temp, 'from-archive');
  const result = await importCifar(validArchive, root);
  assert.equal(result.kind, 'archive');
  assert.equal(result.summary.dir, path.join(root, 'cifar-10-batches-bin'));
  assert.equal(result.summary.trainCount, 50_000);
  assert.equal(result.summary.testCount, 10_000);
  assert.equal(result.summary.fingerprint, validFingerprint);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0], new RegExp(`has md5 ${result.md5}, not the official c32a1d4ab5d03f1284b67883e8d87530`));
  assert.deepEqual(fs.readdirSync(root), ['cifar-10-batches-bin'], 'no temporary folder left behind');
  assert.deepEqual(fs.readdirSync(result.summary.dir).sort(), [...BATCH_FILES, 'batches.meta.txt'].sort());
});

test('an archive with the expected md5 gives no warning', async () => {
  const small = path.join(temp, 'small');
  writeSyntheticCifar(small, { trainPerClass: 3, testPerClass: 1 });
  const archive = await makeTarGz(small, path.join(temp, 'small.tar.gz'));
  const result = await importCifar(archive, path.join(temp, 'small-import'), { strict: false, expectedMd5: await md5OfFile(archive) });
  assert.deepEqual(result.warnings, []);
  assert.equal(result.summary.trainCount, 30);
});

test('importing a folder: the batches folder or its parent, replacing what was there', async () => {
  const root = path.join(temp, 'from-folder');
  writeSyntheticCifar(root, { trainPerClass: 2, testPerClass: 1, seed: 5 }); // something else already there
  const result = await importCifar(validRoot, root);
  assert.equal(result.kind, 'folder');
  assert.equal(result.summary.fingerprint, validFingerprint);
  assert.equal(validateCifarDir(root).fingerprint, validFingerprint);
  assert.deepEqual(fs.readdirSync(root), ['cifar-10-batches-bin']);
  const small = path.join(temp, 'small-folder');
  const data = writeSyntheticCifar(small, { trainPerClass: 2, testPerClass: 1 });
  const fromDir = await importCifar(data.dir, path.join(temp, 'small-folder-import'), { strict: false });
  assert.equal(fromDir.summary.trainCount, 20);
  // the data folder itself as the source: checked in place
  assert.equal((await importCifar(root, root)).summary.fingerprint, validFingerprint);
});

test('a missing path is an error naming it', async () => {
  await rejects(path.join(temp, 'no-such.tar.gz'), /no-such\.tar\.gz does not exist/);
});

test('a file that is neither gzip nor tar is an error naming it', async () => {
  const file = path.join(temp, 'notes.tar.gz');
  fs.writeFileSync(file, 'these are not the images you are looking for\n'.repeat(20));
  await rejects(file, /notes\.tar\.gz is not a \.tar\.gz or \.tar archive/);
});

test('a truncated archive is an error naming it', async () => {
  const file = path.join(temp, 'truncated.tar.gz');
  const bytes = fs.readFileSync(validArchive);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await rejects(file, /truncated\.tar\.gz could not be extracted .*truncated or corrupt/);
});

test('an archive without CIFAR-10 inside is an error naming it', async () => {
  const other = path.join(temp, 'other');
  fs.mkdirSync(path.join(other, 'cifar-10-batches-bin'), { recursive: true });
  fs.writeFileSync(path.join(other, 'cifar-10-batches-bin', 'readme.txt'), 'hello');
  await rejects(await makeTarGz(other, path.join(temp, 'other.tar.gz')), /other\.tar\.gz holds no cifar-10-batches-bin folder/);
});

test('a batch file of the wrong size is an error naming the file, from a folder or an archive', async () => {
  const root = variant('short-file', (dir) => rewrite(path.join(dir, 'data_batch_3.bin'), (b) => b.subarray(0, b.length - 3073)));
  await rejects(root, /data_batch_3\.bin in .*short-file.* has 30726927 bytes, expected 30730000/);
  const small = path.join(temp, 'small-strict');
  writeSyntheticCifar(small, { trainPerClass: 5, testPerClass: 1 });
  await rejects(await makeTarGz(small, path.join(temp, 'small-strict.tar.gz')), /data_batch_1\.bin in archive .*small-strict\.tar\.gz has 30730 bytes/);
});

test('a label out of range is an error naming the file and record', async () => {
  const root = variant('bad-label', (dir) => rewrite(path.join(dir, 'data_batch_2.bin'), (b) => {
    b[5 * 3073] = 12;
    return b;
  }));
  await rejects(root, /data_batch_2\.bin in .*bad-label.* has label 12 in record 5, expected 0-9/);
});

test('wrong class counts are an error', async () => {
  const root = variant('unbalanced', (dir) => rewrite(path.join(dir, 'test_batch.bin'), (b) => {
    b[0] = (b[0] + 1) % 10;
    return b;
  }));
  await rejects(root, /test_batch\.bin in .*unbalanced.* has (999|1001) images of class \d \(\w+\), expected 1000/);
});

test('a missing test batch is an error naming it', async () => {
  const root = variant('no-test', (dir) => fs.unlinkSync(path.join(dir, 'test_batch.bin')));
  await rejects(root, /test_batch\.bin is missing in .*no-test/);
});

test('ensureData imports from CIFAR_SSL_DATA_FROM when the data is missing, else says what to run', async () => {
  const root = path.join(temp, 'ensure');
  const saved = process.env.CIFAR_SSL_DATA_FROM;
  try {
    delete process.env.CIFAR_SSL_DATA_FROM;
    await assert.rejects(ensureData(root), /no CIFAR-10 data in .*ensure.*npx cifar-ssl data.*CIFAR_SSL_DATA_FROM/);
    process.env.CIFAR_SSL_DATA_FROM = validRoot;
    assert.equal(await ensureData(root), path.join(root, 'cifar-10-batches-bin'));
    assert.equal(validateCifarDir(root).fingerprint, validFingerprint);
    // present now: nothing is imported again, even from a source that does not exist
    const before = snapshot(root);
    assert.equal(await ensureData(root, { from: path.join(temp, 'gone') }), path.join(root, 'cifar-10-batches-bin'));
    assert.equal(snapshot(root), before);
  } finally {
    if (saved === undefined) delete process.env.CIFAR_SSL_DATA_FROM;
    else process.env.CIFAR_SSL_DATA_FROM = saved;
  }
});
