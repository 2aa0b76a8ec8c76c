import type { Command } from 'commander';
import { PRESET_NAMES } from '../config/presets';
import type { BackendName } from '../config/types';
import { UsageError } from '../util/errors';

/** Options every training command shares. */
export interface CommonOptions {
  preset: string;
  out?: string;
  seed?: string;
  resume: boolean;
  backend?: BackendName;
  set: string[];
  epochs?: string;
  batchSize?: string;
  lr?: string;
  dataDir?: string;
}

const BACKENDS: BackendName[] = ['tensorflow', 'webgpu', 'onnx', 'wasm', 'cpu'];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function addCommonOptions(command: Command, defaultPreset: string): Command {
  return command
    .option('--preset <name>', `named preset (${PRESET_NAMES.join(', ')})`, defaultPreset)
    .option('--out <dir>', 'run folder (checkpoint, history, encoder); default runs/<preset>/<command>')
    .option('--seed <n>', 'random seed')
    .option('--resume', 'continue the run in --out from its checkpoint', false)
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')} (default: fastest available)`)
    .option('--data-dir <dir>', 'folder holding cifar-10-batches-bin (default data)')
    .option('--epochs <n>', 'number of epochs')
    .option('--batch-size <n>', 'images per batch')
    .option('--lr <x>', 'peak learning rate')
    .option('--set <key=value>', 'override any configuration field, e.g. --set optimizer.momentum=0.95 (repeatable)', collect, []);
}

export function parsePositiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got "${value}"`);
  return n;
}

export function parseNonNegativeInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be a non-negative integer, got "${value}"`);
  return n;
}

export function parsePositiveNumber(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a positive number, got "${value}"`);
  return n;
}

/** "10%" -> 0.1, "0.1" -> 0.1; anything outside (0, 1] is an error. */
export function parseLabelFraction(value: string): number {
  const trimmed = value.trim();
  const fraction = trimmed.endsWith('%') ? Number(trimmed.slice(0, -1)) / 100 : Number(trimmed);
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new UsageError(`label fraction must be a percentage in (0%, 100%] or a fraction in (0, 1], got "${value}"`);
  }
  return fraction;
}

export function parseBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined) return undefined;
  if (!(BACKENDS as string[]).includes(value)) throw new UsageError(`unknown backend "${value}"; choose one of ${BACKENDS.join(', ')}`);
  return value as BackendName;
}

/**
 * Applies `path=value` overrides to a configuration object, returning a new object. The value is
 * parsed to the type of the field it replaces (number, boolean, string, number array), and an
 * unknown path is an error, so a typo never silently does nothing.
 */
export function applyOverrides<T extends object>(config: T, overrides: string[]): T {
  const result = structuredClone(config) as T;
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq < 1) throw new UsageError(`--set expects key=value, got "${override}"`);
    const keys = override.slice(0, eq).split('.');
    const raw = override.slice(eq + 1);
    let target = result as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new UsageError(`--set: unknown configuration path "${override.slice(0, eq)}"`);
      target = next as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (!(last in target)) throw new UsageError(`--set: unknown configuration path "${override.slice(0, eq)}"`);
    target[last] = parseLike(target[last], raw, override.slice(0, eq));
  }
  return result;
}

/** String fields with a closed set of values (the union types of lib/config/types.ts), by path suffix. */
const STRING_CHOICES: Record<string, string[]> = {
  'optimizer.schedule': ['cosine', 'constant'],
  'optimizer.kind': ['sgd', 'adam', 'lars'],
  'sampling.mode': ['all', 'fixed-subset', 'fresh-subset', 'all-chunked'],
  'encoder.kind': ['resnet', 'basic-cnn'],
};

function parseLike(current: unknown, raw: string, key: string): unknown {
  if (typeof current === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`--set ${key}: expected a number, got "${raw}"`);
    return n;
  }
  if (typeof current === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new UsageError(`--set ${key}: expected true or false, got "${raw}"`);
    return raw === 'true';
  }
  if (Array.isArray(current)) {
    const items = raw.split(',').map(Number);
    if (items.some((n) => !Number.isFinite(n))) throw new UsageError(`--set ${key}: expected comma-separated numbers, got "${raw}"`);
    return items;
  }
  if (typeof current === 'string') {
    const allowed = Object.entries(STRING_CHOICES).find(([suffix]) => key === suffix || key.endsWith(`.${suffix}`))?.[1];
    if (allowed && !allowed.includes(raw)) throw new UsageError(`--set ${key}: expected one of ${allowed.join(', ')}, got "${raw}"`);
    return raw;
  }
  throw new UsageError(`--set ${key}: this field cannot be set from the command line`);
}
