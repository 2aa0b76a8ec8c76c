import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureData } from '../../lib/data/index';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Makes sure the project's data/ folder holds CIFAR-10 for the end-to-end tests, importing it from
 * CIFAR_SSL_DATA_FROM (CI: the shared copy) when missing. Returns a reason to skip when it cannot.
 */
export async function realDataOrSkipReason(): Promise<string | null> {
  const dataRoot = path.join(PROJECT_ROOT, 'data');
  const present = fs.existsSync(path.join(dataRoot, 'cifar-10-batches-bin', 'test_batch.bin'));
  if (present) return null;
  if (!process.env.CIFAR_SSL_DATA_FROM) return 'no CIFAR-10 in data/ and CIFAR_SSL_DATA_FROM is not set (run `npx cifar-ssl data`)';
  await ensureData(dataRoot);
  return null;
}
