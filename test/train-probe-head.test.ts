import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { makeLinearClassifier } from '../lib/models/heads';
import { foldStandardisation, loadProbeHead, writeProbeHead } from '../lib/train/probe-head';
import { standardizer } from '../lib/train/supervised';
import { Rng } from '../lib/util/random';

test('LP-FT head: the folded probe on raw features gives the probe\'s logits on standardised features', () => {
  const dim = 5;
  const rng = new Rng(3);
  const raw = Float32Array.from({ length: 8 * dim }, () => rng.uniform(-4, 8));
  const standardize = standardizer(raw.slice(), dim);
  const probe = makeLinearClassifier(dim, 4, new Rng(1));
  const expected = tf.tidy(() => probe.apply(tf.tensor2d(standardize(raw.slice()), [8, dim]), false).dataSync());

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-head-')), 'head.json');
  writeProbeHead(file, foldStandardisation(probe, standardize.mean, standardize.scale));
  const finetuneHead = makeLinearClassifier(dim, 4, new Rng(99));
  loadProbeHead(file, finetuneHead);
  const got = tf.tidy(() => finetuneHead.apply(tf.tensor2d(raw, [8, dim]), false).dataSync());
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `logit ${i}: ${v} != ${expected[i]}`));

  const wrongShape = makeLinearClassifier(dim + 1, 4, new Rng(0));
  assert.throws(() => loadProbeHead(file, wrongShape), /is 5 x 4, the encoder needs 6 x 4/);
  assert.throws(() => loadProbeHead(path.join(path.dirname(file), 'missing.json'), finetuneHead), /run the linear probe first/);
  for (const m of [probe, finetuneHead, wrongShape]) m.dispose();
});
