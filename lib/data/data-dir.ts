/** Where the data lives, and getting it there for code that needs it (notebooks, the study). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { BATCHES_FOLDER, BATCH_FILES } from './cifar-format';
import { importCifar } from './import-data';

/** The `cifar-10-batches-bin` folder under `root`, whether or not it exists yet. */
export function resolveDataDir(root: string): string {
  return path.resolve(root, BATCHES_FOLDER);
}

/** Whether `dir` holds all six CIFAR-10 batch files (their contents are checked when loaded). */
export function hasBatchFiles(dir: string): boolean {
  return BATCH_FILES.every((file) => fs.existsSync(path.join(dir, file)));
}

export interface EnsureOptions {
  /** local copy to import when the data is missing (default: the CIFAR_SSL_DATA_FROM environment variable) */
  from?: string;
  /** where import warnings go (default: console.warn) */
  log?: (message: string) => void;
}

/**
 * The data folder under `root`. When its batch files are missing and a local copy is named
 * (`from`, else CIFAR_SSL_DATA_FROM), imports it first; otherwise a DataError says how to get
 * the data. Full validation happens when the data is loaded.
 */
export async function ensureData(root: string, options: EnsureOptions = {}): Promise<string> {
  const dir = resolveDataDir(root);
  if (hasBatchFiles(dir)) return dir;
  const from = options.from ?? process.env.CIFAR_SSL_DATA_FROM;
  if (from === undefined || from === '') {
    throw new DataError(
      `no CIFAR-10 data in ${dir}: run \`npx cifar-ssl data\` to download it, ` +
      'or `npx cifar-ssl data --from PATH` (or set CIFAR_SSL_DATA_FROM=PATH) to import a local copy',
    );
  }
  const result = await importCifar(from, root);
  const log = options.log ?? ((message: string) => console.warn(message));
  for (const warning of result.warnings) log(`warning: ${warning}`);
  return dir;
}
