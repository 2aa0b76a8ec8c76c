import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Puts a folder in place at `target` so that it is either the old folder or the complete new one.
 * `prepare` builds the new folder anywhere inside `scratch` (a fresh hidden sibling of `target`,
 * so the final rename stays on one file system) and returns its path with any result to pass on;
 * only then is the old folder swapped out. If `prepare` throws, `target` is untouched; the scratch
 * folder is always removed. (The async cousin of `replaceDirAtomic` in util/atomic-write.ts.)
 */
export async function installDirAtomic<T>(
  target: string,
  prepare: (scratch: string) => Promise<{ ready: string; result: T }>,
): Promise<T> {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  fs.mkdirSync(parent, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(parent, `.tmp-${path.basename(resolved)}-`));
  try {
    const { ready, result } = await prepare(scratch);
    const old = path.join(scratch, 'previous');
    const hadOld = fs.existsSync(resolved);
    if (hadOld) fs.renameSync(resolved, old);
    try {
      fs.renameSync(ready, resolved);
    } catch (err) {
      if (hadOld) fs.renameSync(old, resolved);
      throw err;
    }
    return result;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
