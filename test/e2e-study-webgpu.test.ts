/**
 * The study's smoke preset end to end on `--backend webgpu` (in CI: Mesa's lavapipe, a software
 * adapter; about 2.5 minutes on 2 cores). Skips with the reason where there is no adapter or no data.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { RunRecord } from '../lib/experiments/records';
import { PROJECT_ROOT, realDataOrSkipReason } from './helpers/real-data';
import { webgpuSkipReason } from './helpers/webgpu';

describe('the smoke study on webgpu', () => {
  let skip: string | null = null;
  before(async () => {
    skip = (await webgpuSkipReason()) ?? (await realDataOrSkipReason());
    if (skip) console.log(`# webgpu study skipped: ${skip}`);
  });

  test('every run of the study trains and evaluates on webgpu', (t) => {
    if (skip) return t.skip(skip);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-study-webgpu-'));
    const run = spawnSync(process.execPath, [
      path.join(PROJECT_ROOT, 'bin', 'cifar-ssl.js'), 'study', '--preset', 'smoke', '--backend', 'webgpu',
      '--results', path.join(out, 'results'), '--runs', path.join(out, 'runs'), '--no-report',
    ], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr + run.stdout.slice(-2000));
    const records = JSON.parse(fs.readFileSync(path.join(out, 'results', 'smoke', 'records.json'), 'utf8')) as RunRecord[];
    const methods = new Set(records.map((r) => r.method));
    for (const method of ['simclr-knn', 'simclr-linear', 'simclr-finetune', 'supervised-resnet', 'supervised-cnn', 'random-linear']) {
      assert.ok(methods.has(method as RunRecord['method']), `no ${method} record`);
    }
    for (const record of records) {
      assert.equal(record.backend, 'webgpu');
      assert.ok(record.testAccuracy >= 0 && record.testAccuracy <= 1);
    }
    fs.rmSync(out, { recursive: true, force: true });
  });
});
