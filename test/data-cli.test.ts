import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, mock, test } from 'node:test';
import { Command } from 'commander';
import { register as registerData } from '../lib/cli/commands/data';
import { md5OfFile } from '../lib/data/checksum';
import { validateCifarDir } from '../lib/data';
import { DataError } from '../lib/util/errors';
import { makeTarGz, makeTempDir, removeDir, writeSyntheticCifar } from './helpers/synthetic-cifar';

const temp = makeTempDir();
let archive = '';
let fingerprint = '';
let server: http.Server;
let url = '';

before(async () => {
  const source = path.join(temp, 'source');
  writeSyntheticCifar(source, { valid: true });
  fingerprint = validateCifarDir(source).fingerprint;
  archive = await makeTarGz(source, path.join(temp, 'cifar.tar.gz'));
  const bytes = fs.readFileSync(archive);
  server = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Length': bytes.length });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeDir(temp);
});

/** Runs one command of a program holding `register`'s command; returns what it printed. */
async function run(register: (program: Command) => void, args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('cifar-ssl').exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => err.push(text),
  });
  register(program);
  const log = mock.method(console, 'log', (...parts: unknown[]) => { out.push(parts.join(' ') + '\n'); });
  const error = mock.method(console, 'error', (...parts: unknown[]) => { err.push(parts.join(' ') + '\n'); });
  try {
    await program.parseAsync(['node', 'cifar-ssl', ...args]);
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
  return { out: out.join(''), err: err.join('') };
}

/** Runs with environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

test('data --help lists the options and the environment variables', async () => {
  const help: string[] = [];
  const program = new Command('cifar-ssl').exitOverride().configureOutput({ writeOut: (text) => help.push(text) });
  registerData(program);
  await assert.rejects(program.parseAsync(['node', 'cifar-ssl', 'data', '--help']), { code: 'commander.helpDisplayed' });
  for (const word of ['--dir', '--from', '--force', 'CIFAR_SSL_DATA_FROM', 'CIFAR_SSL_DATA_URL']) assert.ok(help.join('').includes(word), word);
});

test('data --from imports an archive, warns about its md5, then finds it in place', async () => {
  const root = path.join(temp, 'imported');
  const first = await run(registerData, ['data', '--dir', root, '--from', archive]);
  assert.match(first.out, new RegExp(`CIFAR-10 ready in .*imported.cifar-10-batches-bin: 50,000 training and 10,000 test images, fingerprint ${fingerprint}`));
  assert.match(first.err, /^warning: .*cifar\.tar\.gz has md5 [0-9a-f]{32}, not the official/);
  const second = await run(registerData, ['data', '--dir', root]);
  assert.match(second.out, /already in .* nothing to do/);
});

test('data downloads from CIFAR_SSL_DATA_URL with progress lines when not on a terminal', async () => {
  const root = path.join(temp, 'downloaded');
  const md5 = await md5OfFile(archive);
  const { out, err } = await withEnv({ CIFAR_SSL_DATA_URL: url, CIFAR_SSL_DATA_MD5: md5, CIFAR_SSL_DATA_FROM: '' }, () => run(registerData, ['data', '--dir', root]));
  assert.match(out, new RegExp(`downloading ${url}`));
  assert.match(out, /MB of [\d.]+ MB \(100%\)/);
  assert.match(out, new RegExp(`fingerprint ${fingerprint}`));
  assert.equal(err, '');
  assert.deepEqual(fs.readdirSync(root).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
});

test('data without a connection fails with one line naming the URL and --from', async () => {
  const root = path.join(temp, 'offline');
  const offline = 'http://127.0.0.1:9/cifar-10-binary.tar.gz';
  await withEnv({ CIFAR_SSL_DATA_URL: offline, CIFAR_SSL_DATA_FROM: '' }, () =>
    assert.rejects(run(registerData, ['data', '--dir', root]), (err: Error) =>
      err instanceof DataError && err.message.startsWith(`could not download ${offline}`) && err.message.includes('--from PATH')));
  assert.equal(fs.existsSync(path.join(root, 'cifar-10-batches-bin')), false);
});

test('data uses CIFAR_SSL_DATA_FROM when the data is missing', async () => {
  const root = path.join(temp, 'from-env');
  const { out } = await withEnv({ CIFAR_SSL_DATA_FROM: path.join(temp, 'source') }, () => run(registerData, ['data', '--dir', root]));
  assert.match(out, /CIFAR-10 ready in/);
});

test('info reports versions, the backend and whether the data validates', async (t) => {
  if (!fs.existsSync(path.join(__dirname, '..', 'lib', 'backend', 'select.ts'))) {
    t.skip('lib/backend/select.ts is not there yet');
    return;
  }
  const { register: registerInfo } = await import('../lib/cli/commands/info');
  const { out } = await run(registerInfo, ['info', '--json', '--dir', path.join(temp, 'imported')]);
  const info = JSON.parse(out) as { versions: { tfjs: string; node: string }; backend: { chosen: string }; data: { status: string; fingerprint: string } };
  assert.equal(info.versions.node, process.version);
  assert.equal(info.versions.tfjs, '4.22.0');
  assert.equal(typeof info.backend.chosen, 'string');
  assert.deepEqual([info.data.status, info.data.fingerprint], ['valid', fingerprint]);
  const missing = await run(registerInfo, ['info', '--dir', path.join(temp, 'nowhere')]);
  assert.match(missing.out, /missing: run `npx cifar-ssl data`/);
});
