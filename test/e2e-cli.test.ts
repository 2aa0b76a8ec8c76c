import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { PROJECT_ROOT, realDataOrSkipReason } from './helpers/real-data';

const BIN = path.join(PROJECT_ROOT, 'bin', 'cifar-ssl.js');

/** a folder that exists but holds no saved encoder */
const LIB = path.join(PROJECT_ROOT, 'lib');

function cli(args: string[], where: { cwd: string; env: NodeJS.ProcessEnv } = { cwd: PROJECT_ROOT, env: process.env }): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: where.cwd, encoding: 'utf8', env: { ...where.env, CIFAR_SSL_BACKEND: 'wasm' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('command line', () => {
  test('every command has --help', () => {
    for (const command of ['data', 'info', 'pretrain', 'probe', 'train', 'study', 'report', 'bench', 'notebooks']) {
      const result = cli([command, '--help']);
      assert.equal(result.status, 0, `${command} --help: ${result.stderr}`);
      assert.match(result.stdout, /Usage: cifar-ssl/);
    }
  });

  test('invalid values give a clear error and exit code 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [['pretrain', '--preset', 'smoke', '--epochs', '-3'], /--epochs must be a positive integer, got "-3"/],
      [['train', '--preset', 'smoke', '--labels', '150%'], /label fraction must be .* got "150%"/],
      [['train', '--preset', 'smoke', '--labels', '0'], /label fraction must be/],
      [['train', '--preset', 'nope'], /unknown preset "nope"; choose one of smoke, quick, cpu, gpu, paper/],
      [['probe', '--preset', 'smoke', '--encoder', '/no/such/encoder'], /encoder folder \/no\/such\/encoder does not exist/],
      [['probe', '--preset', 'smoke', '--encoder', LIB], /no saved weights in .*lib .*pass the encoder\/ folder/],
      [['train', '--preset', 'smoke', '--set', 'optimizer.nosuch=1'], /unknown configuration path "optimizer.nosuch"/],
      [['pretrain', '--preset', 'smoke', '--backend', 'gpu'], /unknown backend "gpu"/],
      [['pretrain', '--bogus-flag'], /unknown option '--bogus-flag'/],
      [['train', '--preset', 'smoke', '--set', 'roundImages=-5'], /roundImages must be a non-negative integer, got -5/],
      [['train', '--preset', 'smoke', '--set', 'minSteps=2.5'], /minSteps must be a non-negative integer, got 2\.5/],
      [['train', '--preset', 'smoke', '--set', 'classifierInit=/no/such/head.json'], /classifierInit \/no\/such\/head\.json does not exist/],
      [['pretrain', '--preset', 'smoke', '--set', 'sampling.mode=sometimes'], /expected one of all, fixed-subset, fresh-subset, all-chunked/],
    ];
    // where no data is and none can be imported: arguments are checked before any data is loaded,
    // and nothing is written
    const withoutData = { cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-no-data-')), env: { ...process.env, CIFAR_SSL_DATA_FROM: '' } };
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-cli-')), 'run');
    for (const [args, message] of cases) {
      const result = cli([...args, '--out', out], withoutData);
      assert.equal(result.status, 2, `${args.join(' ')}: exit ${result.status}, stderr ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(fs.existsSync(out), false, `${args.join(' ')} wrote ${out}`);
    }
  });
});

describe('training commands on the smoke preset (real CIFAR-10)', () => {
  let skip: string | null = null;
  before(async () => {
    skip = await realDataOrSkipReason();
  });

  test('pretrain, probe, fine-tune and train from scratch run end to end and resume', (t) => {
    if (skip) return t.skip(skip);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-cli-'));
    const pretrain = cli(['pretrain', '--preset', 'smoke', '--epochs', '1', '--out', path.join(out, 'pre')]);
    assert.equal(pretrain.status, 0, pretrain.stderr);
    const encoder = path.join(out, 'pre', 'encoder');
    assert.ok(fs.existsSync(path.join(encoder, 'manifest.json')));
    const history = fs.readFileSync(path.join(out, 'pre', 'history.jsonl'), 'utf8').trim().split('\n');
    assert.equal(history.length, 1);
    assert.ok(JSON.parse(history[0]).knnAccuracy >= 0);

    const again = cli(['pretrain', '--preset', 'smoke', '--epochs', '1', '--out', path.join(out, 'pre'), '--resume']);
    assert.equal(again.status, 0, again.stderr);
    const refused = cli(['pretrain', '--preset', 'smoke', '--epochs', '2', '--out', path.join(out, 'pre'), '--resume']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /was made with configuration/);

    const probe = cli(['probe', '--preset', 'smoke', '--encoder', encoder, '--labels', '10%', '--out', path.join(out, 'probe')]);
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /probe on 10% of the labels \(\d+ images\): test accuracy \d+\.\d+%/);
    const finetune = cli(['train', '--preset', 'smoke', '--init', encoder, '--labels', '0.5', '--epochs', '1', '--out', path.join(out, 'ft')]);
    assert.equal(finetune.status, 0, finetune.stderr);
    const scratch = cli(['train', '--preset', 'smoke', '--model', 'basic-cnn', '--epochs', '1', '--out', path.join(out, 'cnn')]);
    assert.equal(scratch.status, 0, scratch.stderr);
    const result = JSON.parse(fs.readFileSync(path.join(out, 'cnn', 'result.json'), 'utf8'));
    assert.equal(result.test.confusion.length, 10);
  });
});

describe('the benchmark command on the smoke preset (real CIFAR-10)', () => {
  let skip: string | null = null;
  before(async () => {
    skip = await realDataOrSkipReason();
  });

  test('each backend takes its turns in its own process; the table, the rounds and bench.json are written', (t) => {
    if (skip) return t.skip(skip);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-bench-'));
    // onnx and wasm (the cpu backend takes minutes even on smoke); onnx is skipped where it cannot load.
    const result = cli(['bench', '--presets', 'smoke', '--backends', 'onnx,wasm', '--steps', '1', '--rounds', '2', '--no-pytorch', '--no-doc', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const bench = JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8')) as { cases: Array<{ backend: string; step: string; imagesPerSecond: number; roundStepMs: number[]; kernels: unknown[] }> };
    const onnx = /onnx: skipped/.test(result.stdout) ? [] : ['onnx simclr', 'onnx supervised'];
    assert.deepEqual(bench.cases.map((c) => `${c.backend} ${c.step}`).sort(), [...onnx, 'wasm simclr', 'wasm supervised']);
    for (const c of bench.cases) {
      assert.equal(c.roundStepMs.length, 2, 'one median step per round');
      assert.ok(c.imagesPerSecond > 0 && Number.isFinite(c.imagesPerSecond));
      assert.ok(c.kernels.length > 0, 'the first round profiles the kernels');
    }
    const markdown = fs.readFileSync(path.join(out, 'bench.md'), 'utf8');
    assert.match(markdown, onnx.length > 0 ? /\| smoke \| simclr \| 50 \| \d+ \| \d+ \| [\d.]+x \|/ : /\| smoke \| simclr \| 50 \| \d+ \|/);
    assert.match(markdown, /took turns for 2 rounds of 1 timed steps/);
  });
});
