/** Backend selection: the automatic order, explicit requests, the environment variable, reasons. */
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_ENV_VAR, BACKEND_ORDER, describeBackends, formatBackendReport, parseBackendName, selectBackend,
} from '../lib/backend/select';
import { UsageError } from '../lib/util/errors';

/** True only where the real native binding is installed (never in this project's sandbox). */
/** Whether a native TensorFlow binding really loads here (installed by hand), not only its package. */
function nativeTensorflowLoads(): boolean {
  for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      if ((require(`${name}/package.json`) as { name: string }).name !== name) continue;
      require(name);
      return true;
    } catch {
      // not installed, or installed without its binding (ignore-scripts)
    }
  }
  return false;
}

/** What the tensorflow attempt says where no binding loads: absent, or present without its binding. */
const TENSORFLOW_UNAVAILABLE = /not installed \(optional dependency; needs @tensorflow\/tfjs-node|is installed without its native binding\. tfjs-node and tfjs-node-gpu cannot be installed from npm today/;

let previousBackend: string;
const previousEnv = process.env[BACKEND_ENV_VAR];

before(() => {
  previousBackend = tf.getBackend();
});

afterEach(() => {
  if (previousEnv === undefined) delete process.env[BACKEND_ENV_VAR];
  else process.env[BACKEND_ENV_VAR] = previousEnv;
});

after(async () => {
  if (previousBackend) await tf.setBackend(previousBackend);
});

test('without a request, the first backend that loads is chosen and each faster one says why not', async () => {
  delete process.env[BACKEND_ENV_VAR];
  const report = await selectBackend();
  const names = report.attempts.map((a) => a.name);
  assert.deepEqual(names, BACKEND_ORDER.slice(0, names.length), 'tried in order, stopping at the first that loads');
  assert.equal(report.chosen, names[names.length - 1]);
  assert.equal(tf.getBackend(), report.chosen);
  for (const attempt of report.attempts.slice(0, -1)) {
    assert.equal(attempt.ok, false);
    assert.ok(attempt.reason.length > 10, `${attempt.name} gives a reason`);
  }
  assert.equal(report.attempts[report.attempts.length - 1].ok, true);
  if (!nativeTensorflowLoads()) assert.match(report.attempts[0].reason, TENSORFLOW_UNAVAILABLE);
});

test('selecting again with the same request reuses the report; describeBackends returns it', async () => {
  delete process.env[BACKEND_ENV_VAR];
  const first = await selectBackend();
  const again = await selectBackend();
  assert.equal(again, first);
  assert.equal(await describeBackends(), first);
});

test('an explicit request loads only that backend', async () => {
  const cpu = await selectBackend('cpu');
  assert.deepEqual(cpu.attempts.map((a) => [a.name, a.ok]), [['cpu', true]]);
  assert.equal(tf.getBackend(), 'cpu');
  const wasm = await selectBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(wasm.attempts[0].reason, /single-threaded in Node/);
  assert.equal(await describeBackends(), wasm);
});

test('an unavailable explicit request is a UsageError with the reason, and keeps the current backend', async (t) => {
  if (nativeTensorflowLoads()) return t.skip('a native binding loads here');
  await selectBackend('cpu');
  await assert.rejects(selectBackend('tensorflow'), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /backend 'tensorflow' \(requested\) is unavailable: /);
    assert.match(error.message, TENSORFLOW_UNAVAILABLE);
    return true;
  });
  assert.equal(tf.getBackend(), 'cpu');
});

test(`${BACKEND_ENV_VAR} names the backend when no argument does; an argument wins`, async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  assert.equal((await selectBackend()).chosen, 'cpu');
  process.env[BACKEND_ENV_VAR] = ' WASM ';
  assert.equal((await selectBackend()).chosen, 'wasm');
  assert.equal((await selectBackend('cpu')).chosen, 'cpu');
  process.env[BACKEND_ENV_VAR] = 'gpu';
  await assert.rejects(selectBackend(), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, new RegExp(`${BACKEND_ENV_VAR}: unknown backend 'gpu'; use one of tensorflow, webgpu, onnx, wasm, cpu`));
    return true;
  });
});

test('parseBackendName accepts the four names in any case and rejects others', () => {
  assert.equal(parseBackendName('ONNX', '--backend'), 'onnx');
  assert.throws(() => parseBackendName('webgl', '--backend'), /--backend: unknown backend 'webgl'/);
});

test('formatBackendReport: the choice, then one line per attempt', () => {
  const text = formatBackendReport({
    chosen: 'wasm',
    attempts: [
      { name: 'tensorflow', ok: false, reason: 'not installed' },
      { name: 'onnx', ok: false, reason: 'onnxruntime-node failed to load' },
      { name: 'wasm', ok: true, reason: 'XNNPACK' },
    ],
  });
  assert.deepEqual(text.split('\n'), [
    'backend: wasm',
    '  tensorflow no  not installed',
    '  onnx       no  onnxruntime-node failed to load',
    '  wasm       ok  XNNPACK',
  ]);
});

test('ORT threads per kernel: cores - 1 by default, every core for convolutions, TFJS_ONNX_THREADS when set, a clear error when it is not a count', async () => {
  const { defaultThreadCount } = await import('tfjs-backend-onnx');
  const os = await import('node:os');
  assert.equal(defaultThreadCount({}), Math.max(1, os.availableParallelism() - 1));
  assert.equal(defaultThreadCount({}, true), os.availableParallelism());
  assert.equal(defaultThreadCount({ TFJS_ONNX_THREADS: '3' }), 3);
  assert.equal(defaultThreadCount({ TFJS_ONNX_THREADS: '3' }, true), 3);
  assert.throws(() => defaultThreadCount({ TFJS_ONNX_THREADS: '0' }), /TFJS_ONNX_THREADS=0 is not a thread count/);
  assert.throws(() => defaultThreadCount({ TFJS_ONNX_THREADS: 'two' }), /give a whole number of at least 1/);
});

for (const [what, name, variable] of [
  ['the background thread of the filter gradient', 'defaultBackgroundThread', 'TFJS_ONNX_BACKGROUND'],
  ['the row thread of batch norm and element-wise passes', 'defaultRowThread', 'TFJS_ONNX_ROW_THREAD'],
] as const) {
  test(`${what}: on with two convolution threads or more, ${variable}=0/1 when set, a clear error otherwise`, async () => {
    const setting = (await import('tfjs-backend-onnx'))[name];
    assert.equal(setting({}, 2), true);
    assert.equal(setting({}, 1), false);
    assert.equal(setting({ [variable]: '0' }, 4), false);
    assert.equal(setting({ [variable]: '1' }, 1), true);
    assert.throws(() => setting({ [variable]: 'off' }, 2), new RegExp(`${variable}=off: give 0 .* or 1`));
  });
}
