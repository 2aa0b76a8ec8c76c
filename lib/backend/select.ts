/**
 * Chooses the compute backend: the fastest that loads, in the order tensorflow, webgpu (on a
 * hardware adapter only), onnx, wasm, cpu, unless one is named (argument, or the CIFAR_SSL_BACKEND environment variable). The report says
 * which loaded and why each faster one did not.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../config/types';
import { UsageError } from '../util/errors';
import { activateBackend } from './loaders';

/** Backends, fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'onnx', 'wasm', 'cpu'];

/** Environment variable that names the backend when no argument does. */
export const BACKEND_ENV_VAR = 'CIFAR_SSL_BACKEND';

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** what runs (ok) or why it could not load (not ok) */
  reason: string;
}

export interface BackendReport {
  chosen: BackendName;
  /** every backend tried, in order; the last one is the chosen one */
  attempts: BackendAttempt[];
}

/** The last selection, so selecting again with the same request is free. */
let current: { requested: BackendName | undefined; report: BackendReport } | undefined;

/**
 * Loading failures do not heal within a process: remembered so fallbacks stay cheap. Keyed by
 * name and whether it was asked for: webgpu refuses a software adapter only when it was not.
 */
const failures = new Map<string, string>();

/**
 * Sets the tfjs backend and awaits tf.ready(). With `requested` (or CIFAR_SSL_BACKEND) only that
 * backend is tried and a failure is a UsageError naming the reason; otherwise the first of
 * BACKEND_ORDER that loads is chosen.
 */
export async function selectBackend(requested?: BackendName): Promise<BackendReport> {
  const fromEnv = process.env[BACKEND_ENV_VAR];
  const wanted = requested ?? (fromEnv ? parseBackendName(fromEnv, BACKEND_ENV_VAR) : undefined);
  if (current !== undefined && current.requested === wanted && tf.getBackend() === current.report.chosen) {
    return current.report;
  }
  const report = wanted === undefined
    ? await firstAvailable()
    : await exactly(wanted, requested === undefined ? BACKEND_ENV_VAR : 'requested');
  current = { requested: wanted, report };
  return report;
}

/** The report of the current selection, selecting first if nothing has been (for `cifar-ssl info`). */
export async function describeBackends(): Promise<BackendReport> {
  return current?.report ?? selectBackend();
}

/** Checks a backend name typed by a person; `source` names where it came from (an option, a variable). */
export function parseBackendName(value: string, source: string): BackendName {
  const name = BACKEND_ORDER.find((candidate) => candidate === value.trim().toLowerCase());
  if (name === undefined) {
    throw new UsageError(`${source}: unknown backend '${value}'; use one of ${BACKEND_ORDER.join(', ')}`);
  }
  return name;
}

/** The report as log lines: the choice, then one line per backend tried. */
export function formatBackendReport(report: BackendReport): string {
  const lines = report.attempts.map(
    (attempt) => `  ${attempt.name.padEnd(10)} ${attempt.ok ? 'ok' : 'no'}  ${attempt.reason}`,
  );
  return [`backend: ${report.chosen}`, ...lines].join('\n');
}

async function firstAvailable(): Promise<BackendReport> {
  const attempts: BackendAttempt[] = [];
  for (const name of BACKEND_ORDER) {
    const attempt = await tryBackend(name, false);
    attempts.push(attempt);
    if (attempt.ok) return { chosen: name, attempts };
  }
  // unreachable in practice: the cpu backend ships with @tensorflow/tfjs
  throw new Error(`no backend could be loaded:\n${formatAttempts(attempts)}`);
}

async function exactly(name: BackendName, source: string): Promise<BackendReport> {
  const previous = tf.getBackend();
  const attempt = await tryBackend(name, true);
  if (!attempt.ok) {
    // a failed tf.setBackend leaves no usable backend behind; restore the one that worked
    if (previous && previous !== name) await tf.setBackend(previous);
    throw new UsageError(`backend '${name}' (${source}) is unavailable: ${attempt.reason}; choose another or let it choose`);
  }
  return { chosen: name, attempts: [attempt] };
}

async function tryBackend(name: BackendName, explicit: boolean): Promise<BackendAttempt> {
  const key = `${name}${explicit ? '' : ' (automatic)'}`;
  const known = failures.get(key);
  if (known !== undefined) return { name, ok: false, reason: known };
  try {
    return { name, ok: true, reason: await activateBackend(name, explicit) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    failures.set(key, reason);
    return { name, ok: false, reason };
  }
}

function formatAttempts(attempts: BackendAttempt[]): string {
  return attempts.map((a) => `  ${a.name}: ${a.reason}`).join('\n');
}
