/**
 * Importing CIFAR-10 from a local `.tar.gz` (or `.tar`) archive or an extracted folder into
 * `<root>/cifar-10-batches-bin`. The copy is built in a hidden sibling folder, validated there and
 * only then renamed into place, so a bad source never replaces (or half-writes) good data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { DataError } from '../util/errors';
import { BATCHES_FOLDER, BATCH_FILES, META_FILE, OFFICIAL_MD5 } from './cifar-format';
import { findBatchesDir } from './batch-files';
import { md5OfFile } from './checksum';
import { installDirAtomic } from './install-dir';
import { CifarSummary, validateCifarDir } from './validate';

export interface ImportOptions {
  /** official sizes and class counts (default); false accepts small synthetic data (tests) */
  strict?: boolean;
  /** md5 an archive is expected to have (default: the official release's); others get a warning */
  expectedMd5?: string;
}

export interface ImportResult {
  /** the installed folder, validated */
  summary: CifarSummary;
  source: string;
  kind: 'archive' | 'folder';
  /** md5 of the archive (archives only) */
  md5?: string;
  /** things the person should know, e.g. an md5 that is not the official one */
  warnings: string[];
}

/** Only plain files and folders are extracted: links could point outside the data folder. */
const EXTRACTED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

function archiveKind(file: string): 'gzip' | 'tar' | undefined {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (read >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

/** The batches folder inside an extracted archive: at its top, in cifar-10-batches-bin/, or in its only folder. */
function locateExtracted(extractDir: string): string | undefined {
  const direct = findBatchesDir(extractDir);
  if (direct !== undefined) return direct;
  const entries = fs.readdirSync(extractDir, { withFileTypes: true });
  return entries.length === 1 && entries[0].isDirectory() ? findBatchesDir(path.join(extractDir, entries[0].name)) : undefined;
}

async function importArchive(source: string, target: string, options: ImportOptions): Promise<ImportResult> {
  if (archiveKind(source) === undefined) {
    throw new DataError(`${source} is not a .tar.gz or .tar archive (no gzip or tar signature): give --from cifar-10-binary.tar.gz or an extracted folder`);
  }
  const md5 = await md5OfFile(source);
  const summary = await installDirAtomic(target, async (scratch) => {
    const extractDir = path.join(scratch, 'extract');
    fs.mkdirSync(extractDir);
    try {
      // strict: a truncated or corrupt archive is an error, never a silently shorter extraction
      await tar.x({
        file: source,
        cwd: extractDir,
        strict: true,
        filter: (_path, entry) => 'type' in entry && EXTRACTED_TYPES.has(entry.type),
      });
    } catch (err) {
      throw new DataError(`${source} could not be extracted (${(err as Error).message}): the archive is truncated or corrupt; download it again`);
    }
    const found = locateExtracted(extractDir);
    if (found === undefined) {
      throw new DataError(`${source} holds no ${BATCHES_FOLDER} folder with CIFAR-10 batch files: not the CIFAR-10 binary release`);
    }
    return { ready: found, result: validateCifarDir(found, { strict: options.strict, where: `archive ${source}` }) };
  });
  const warnings: string[] = [];
  const expected = options.expectedMd5 ?? OFFICIAL_MD5;
  if (md5 !== expected) {
    warnings.push(
      `${source} has md5 ${md5}, not the ${expected === OFFICIAL_MD5 ? 'official' : 'expected'} ${expected}; ` +
      'accepted because its contents validate ' +
      '(a re-packed or modified copy: say which data your results were measured on)',
    );
  }
  return { summary: { ...summary, dir: target }, source, kind: 'archive', md5, warnings };
}

async function importFolder(source: string, target: string, options: ImportOptions): Promise<ImportResult> {
  const found = findBatchesDir(source);
  if (found === undefined) {
    throw new DataError(`${source} holds neither CIFAR-10 batch files nor a ${BATCHES_FOLDER} folder: give --from the extracted folder or the .tar.gz`);
  }
  if (path.resolve(found) === target) {
    // importing the data folder onto itself: nothing to copy, only check it
    return { summary: validateCifarDir(target, { strict: options.strict }), source, kind: 'folder', warnings: [] };
  }
  const summary = await installDirAtomic(target, async (scratch) => {
    const copy = path.join(scratch, BATCHES_FOLDER);
    fs.mkdirSync(copy);
    for (const file of [...BATCH_FILES, META_FILE]) {
      // a missing file is reported by the validation below, which names it
      if (fs.existsSync(path.join(found, file))) await fs.promises.copyFile(path.join(found, file), path.join(copy, file));
    }
    return { ready: copy, result: validateCifarDir(copy, { strict: options.strict, where: found }) };
  });
  return { summary: { ...summary, dir: target }, source, kind: 'folder', warnings: [] };
}

/**
 * Imports CIFAR-10 from `source` (a `.tar.gz`/`.tar` archive, a `cifar-10-batches-bin` folder or
 * its parent) into `<root>/cifar-10-batches-bin`, replacing what is there only once the new copy
 * validates. Bad input is a one-line DataError naming the file and the problem.
 */
export async function importCifar(source: string, root: string, options: ImportOptions = {}): Promise<ImportResult> {
  if (!fs.existsSync(source)) {
    throw new DataError(`${source} does not exist: give --from the path of cifar-10-binary.tar.gz or of an extracted ${BATCHES_FOLDER} folder`);
  }
  const target = path.resolve(root, BATCHES_FOLDER);
  return fs.statSync(source).isDirectory()
    ? importFolder(source, target, options)
    : importArchive(source, target, options);
}
