/**
 * Saving and loading a module's variables: `weights.bin` (every tensor's float32 values, one after
 * the other) and `manifest.json` (spec, description and where each tensor lies in the file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { replaceDirAtomic } from '../util/atomic-write';
import { UserError } from '../util/errors';
import type { Module } from './types';

export const WEIGHTS_FILE = 'weights.bin';
export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'cifar-ssl-weights/1';

export interface TensorEntry {
  /** stable path, e.g. "stage1.block0.conv1.kernel" */
  name: string;
  group: 'trainable' | 'state';
  shape: number[];
  dtype: 'float32';
  /** position of the first byte in weights.bin */
  offset: number;
  /** bytes */
  length: number;
}

export interface WeightsManifest {
  format: string;
  description: string;
  spec: Record<string, unknown>;
  /** anything the caller saved alongside (e.g. the run's config and epoch) */
  extra: Record<string, unknown>;
  tensors: TensorEntry[];
}

function moduleTensors(module: Module): Array<[string, 'trainable' | 'state', tf.Variable]> {
  return [
    ...[...module.trainable].map(([name, v]) => [name, 'trainable', v] as [string, 'trainable', tf.Variable]),
    ...[...module.state].map(([name, v]) => [name, 'state', v] as [string, 'state', tf.Variable]),
  ];
}

/** JSON with object keys sorted, so two specs compare equal exactly when they hold the same data. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Writes the module's weights to `dir` (replacing it atomically: readers never see half a save). */
export function saveModule(module: Module, dir: string, extra: Record<string, unknown> = {}): void {
  const tensors: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, group, variable] of moduleTensors(module)) {
    const values = variable.dataSync() as Float32Array;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    tensors.push({ name, group, shape: variable.shape, dtype: 'float32', offset, length: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const manifest: WeightsManifest = {
    format: FORMAT, description: module.description, spec: module.spec, extra, tensors,
  };
  replaceDirAtomic(dir, (tmp) => {
    fs.writeFileSync(path.join(tmp, WEIGHTS_FILE), Buffer.concat(chunks));
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  });
}

/** Reads and checks `dir/manifest.json`; throws a UserError naming the folder when it is missing or malformed. */
export function readWeightsManifest(dir: string): WeightsManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) {
    throw new UserError(`no saved weights in ${dir} (${MANIFEST_FILE} missing); check the folder or train the model first`);
  }
  let manifest: WeightsManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as WeightsManifest;
  } catch {
    throw new UserError(`${file} is not valid JSON; delete the folder and save the model again`);
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.tensors)) {
    throw new UserError(`${file} is not a ${FORMAT} manifest; delete the folder and save the model again`);
  }
  return manifest;
}

/**
 * Loads weights saved by `saveModule` into `module` (same architecture required) and returns the
 * manifest, whose `extra` holds what was saved alongside.
 */
export function loadModuleWeights(module: Module, dir: string): WeightsManifest {
  const manifest = readWeightsManifest(dir);
  if (canonicalJson(manifest.spec) !== canonicalJson(module.spec)) {
    throw new UserError(
      `weights in ${dir} are for ${manifest.description} ${canonicalJson(manifest.spec)}, ` +
      `but the model is ${module.description} ${canonicalJson(module.spec)}; build the model with the saved spec`,
    );
  }
  const binFile = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(binFile)) throw new UserError(`${binFile} is missing; delete the folder and save the model again`);
  const bin = fs.readFileSync(binFile);
  const expected = manifest.tensors.reduce((end, t) => Math.max(end, t.offset + t.length), 0);
  if (bin.byteLength !== expected) {
    throw new UserError(`${binFile} has ${bin.byteLength} bytes, the manifest expects ${expected}; save the model again`);
  }

  const targets = new Map(moduleTensors(module).map(([name, group, v]) => [`${group}:${name}`, v]));
  const saved = new Set(manifest.tensors.map((t) => `${t.group}:${t.name}`));
  const missing = [...targets.keys()].filter((key) => !saved.has(key));
  const unexpected = [...saved].filter((key) => !targets.has(key));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new UserError(
      `weights in ${dir} do not match the model's variables (missing: ${missing.join(', ') || 'none'}; ` +
      `unexpected: ${unexpected.join(', ') || 'none'}); save the model again`,
    );
  }
  for (const entry of manifest.tensors) {
    const variable = targets.get(`${entry.group}:${entry.name}`) as tf.Variable;
    if (canonicalJson(entry.shape) !== canonicalJson(variable.shape)) {
      throw new UserError(
        `${entry.name} in ${dir} has shape [${entry.shape}], the model expects [${variable.shape}]; save the model again`,
      );
    }
    // Copy: the Buffer's offset need not be a multiple of 4, which Float32Array views require.
    const values = new Float32Array(bin.buffer.slice(bin.byteOffset + entry.offset, bin.byteOffset + entry.offset + entry.length));
    tf.tidy(() => variable.assign(tf.tensor(values, entry.shape)));
  }
  return manifest;
}

/** Copies every variable (trainable and state) to JS memory, e.g. to keep the best epoch's weights. */
export function snapshotWeights(module: Module): Map<string, Float32Array> {
  const snapshot = new Map<string, Float32Array>();
  for (const [name, , variable] of moduleTensors(module)) {
    snapshot.set(name, (variable.dataSync() as Float32Array).slice());
  }
  return snapshot;
}

/** Writes a snapshot taken by `snapshotWeights` of the same module back into its variables. */
export function restoreWeights(module: Module, snapshot: Map<string, Float32Array>): void {
  for (const [name, , variable] of moduleTensors(module)) {
    const values = snapshot.get(name);
    if (values === undefined || values.length !== variable.size) {
      throw new Error(`snapshot does not fit ${module.description}: variable ${name} is missing or has another size`);
    }
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
  }
}

/** Number of trainable scalars (batch-norm running statistics are not parameters). */
export function countParameters(module: Module): number {
  let total = 0;
  for (const variable of module.trainable.values()) total += variable.size;
  return total;
}
