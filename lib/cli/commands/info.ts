import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { type BackendReport, describeBackends } from '../../backend/select';
import { type AdapterReport, adapterName, formatBytes } from '../../backend/webgpu/adapter';
import { webgpuAdapter } from '../../backend/webgpu/register';
import { resolveDataDir, validateCifarDir } from '../../data/index';
import { UserError } from '../../util/errors';

interface InfoOptions {
  dir: string;
  json: boolean;
}

/** What `info` reports; `--json` prints exactly this object. */
export interface InfoReport {
  versions: { node: string; tfjs: string; cifarSsl: string };
  /** flags node was started with (the command line adds --single-threaded-gc on small machines, lib/util/node-flags.ts) */
  nodeFlags: string[];
  backend: BackendReport;
  /** the WebGPU adapter Dawn offers (whether or not webgpu was chosen), or why there is none */
  webgpu: AdapterReport | { unavailable: string };
  data: DataState;
}

/** The cifar-10-batches-bin folder looked at, and whether it validates. */
export type DataState =
  | { dir: string; status: 'valid'; fingerprint: string; trainCount: number; testCount: number }
  | { dir: string; status: 'missing' | 'invalid'; problem: string };

function packageVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function describeData(root: string): DataState {
  const dir = resolveDataDir(root);
  if (!fs.existsSync(dir)) return { dir, status: 'missing', problem: 'run `npx cifar-ssl data` (or `--from PATH`)' };
  try {
    const { fingerprint, trainCount, testCount } = validateCifarDir(dir);
    return { dir, status: 'valid', fingerprint, trainCount, testCount };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { dir, status: 'invalid', problem: err.message };
  }
}

/** Versions, the backend chosen (and why each faster one was not) and the state of the data. */
export async function collectInfo(root: string): Promise<InfoReport> {
  return {
    versions: { node: process.version, tfjs: tf.version.tfjs, cifarSsl: packageVersion() },
    nodeFlags: [...process.execArgv],
    backend: await describeBackends(),
    webgpu: await webgpuAdapter(),
    data: describeData(root),
  };
}

function formatInfo(info: InfoReport): string {
  const { versions, backend, data } = info;
  const lines = [
    `cifar-ssl ${versions.cifarSsl}, node ${versions.node}${info.nodeFlags.length > 0 ? ` (${info.nodeFlags.join(' ')})` : ''}, tfjs ${versions.tfjs}`,
    `backend: ${backend.chosen}`,
    ...backend.attempts.map((a) => `  ${a.name.padEnd(11)} ${a.ok ? 'ok ' : 'no '} ${a.reason}`),
    ...formatAdapter(info.webgpu),
    `data: ${data.dir}`,
  ];
  if (data.status === 'valid') {
    const count = (n: number): string => n.toLocaleString('en-US');
    lines.push(`  valid: ${count(data.trainCount)} training and ${count(data.testCount)} test images, fingerprint ${data.fingerprint}`);
  } else {
    lines.push(`  ${data.status === 'missing' ? 'missing' : 'does not validate'}: ${data.problem}`);
  }
  return lines.join('\n');
}

function formatAdapter(adapter: InfoReport['webgpu']): string[] {
  if ('unavailable' in adapter) return [`webgpu adapter: none (${adapter.unavailable})`];
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  return [
    `webgpu adapter: ${adapterName(adapter)}`,
    `  vendor '${adapter.vendor}', architecture '${adapter.architecture}', device '${adapter.device}'`,
    `  limits requested: maxStorageBufferBindingSize ${formatBytes(maxStorageBufferBindingSize)}, maxBufferSize ${formatBytes(maxBufferSize)} (the largest tensor)`,
  ];
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show versions, the compute backend chosen (and why faster ones were not) and whether the data validates')
    .option('--dir <dir>', 'folder holding cifar-10-batches-bin', 'data')
    .option('--json', 'print the report as JSON', false)
    .action(async (options: InfoOptions) => {
      const info = await collectInfo(options.dir);
      console.log(options.json ? JSON.stringify(info, null, 2) : formatInfo(info));
    });
}
