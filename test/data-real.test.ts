import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { defaultData } from '../lib/config/defaults';
import { importCifar, loadCifar, makeSplits } from '../lib/data';
import { makeTempDir, removeDir } from './helpers/synthetic-cifar';

const repo = path.join(__dirname, '..');
const shared = path.join(repo, '..', 'shared', 'data', 'cifar-10-binary-jpeg.tar.gz');
const temp = makeTempDir();
after(() => removeDir(temp));

test('the shared CIFAR-10 copy imports, loads with the official counts and matches the committed splits', async (t) => {
  if (!fs.existsSync(shared)) {
    t.skip(`${shared} is not there (see docs/data.md)`);
    return;
  }
  const result = await importCifar(shared, temp);
  assert.equal(result.md5, 'e8bbe406e67110c2e9b8d2715fec3863');
  assert.match(result.warnings.join(' '), /not the official c32a1d4ab5d03f1284b67883e8d87530/);
  assert.deepEqual(result.summary.trainPerClass, new Array(10).fill(5000));
  assert.deepEqual(result.summary.testPerClass, new Array(10).fill(1000));

  const dataset = loadCifar(temp);
  assert.equal(dataset.fingerprint, result.summary.fingerprint);
  assert.equal(dataset.train.images.length, 50_000 * 32 * 32 * 3);
  assert.equal(dataset.classNames[0], 'airplane');
  // the committed split files of this copy exist, and what makeSplits computes agrees with them
  const committed = path.join(repo, 'data', 'splits', dataset.fingerprint);
  assert.ok(fs.existsSync(committed), `no committed split files for fingerprint ${dataset.fingerprint}`);
  const splits = makeSplits(dataset, defaultData, { splitsDir: path.join(repo, 'data', 'splits') });
  assert.equal(splits.validation.length, 5000);
  assert.equal(splits.trainPool.length, 45_000);
  assert.equal(splits.labelled(0.01, 0).length, 450);
});
