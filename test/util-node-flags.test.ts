/**
 * The V8 flags the command line and the notebook kernel start with (lib/util/node-flags.ts), and
 * that the command line really runs under them.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { availableCores, INITIAL_OLD_SPACE_MB, missingNodeFlags, SINGLE_THREADED_GC_MAX_CORES, trainingNodeFlags } from '../lib/util/node-flags';

test('few cores get the single-threaded garbage collector, many keep its threads, CIFAR_SSL_PARALLEL_GC opts out; every machine gets the larger old generation', () => {
  const heap = `--initial-old-space-size=${INITIAL_OLD_SPACE_MB}`;
  assert.deepEqual(trainingNodeFlags({}, 2), ['--single-threaded-gc', heap]);
  assert.deepEqual(trainingNodeFlags({}, SINGLE_THREADED_GC_MAX_CORES), ['--single-threaded-gc', heap]);
  assert.deepEqual(trainingNodeFlags({}, SINGLE_THREADED_GC_MAX_CORES + 1), [heap]);
  assert.deepEqual(trainingNodeFlags({ CIFAR_SSL_PARALLEL_GC: '1' }, 2), [heap]);
  assert.deepEqual(trainingNodeFlags({ CIFAR_SSL_PARALLEL_GC: '0' }, 2), ['--single-threaded-gc', heap]);
  assert.deepEqual(missingNodeFlags(['--single-threaded-gc', heap], {}, 2), []);
  assert.deepEqual(missingNodeFlags(['--max-old-space-size=4096'], {}, 2), ['--single-threaded-gc', heap]);
  // A value the user chose stands; V8 spells flags with '_' or '-'.
  assert.deepEqual(missingNodeFlags(['--initial_old_space_size=1024', '--single-threaded-gc'], {}, 2), []);
});

test('the command line runs under those flags and passes on its exit code', () => {
  const cli = path.join(__dirname, '..', 'bin', 'cifar-ssl.js');
  const info = spawnSync(process.execPath, [cli, 'info', '--json', '--dir', path.join(__dirname, 'no-such-dir')], { encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  const report = JSON.parse(info.stdout) as { nodeFlags: string[] };
  for (const flag of trainingNodeFlags(process.env, availableCores())) assert.ok(report.nodeFlags.includes(flag), `info ran without ${flag}: ${report.nodeFlags.join(' ')}`);
  const unknown = spawnSync(process.execPath, [cli, 'no-such-command'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2, unknown.stderr);
});
