import * as fs from 'node:fs';
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import {
  ImportResult, OFFICIAL_URL, ProgressHook, downloadCifar, importCifar, resolveDataDir, validateCifarDir,
} from '../../data/index';
import { UserError } from '../../util/errors';

interface DataOptions {
  dir: string;
  from?: string;
  force: boolean;
}

const MB = 1024 * 1024;

/**
 * Download progress: a bar on a terminal, otherwise a log line per tenth (per 16 MB when the size
 * is unknown) so CI logs stay short. Nothing is printed when no download happens.
 */
function progressReporter(url: string): { onProgress: ProgressHook; stop: () => void } {
  const bar = process.stdout.isTTY ? new SingleBar({ format: '  [{bar}] {percentage}% | {got} / {size} MB', hideCursor: true }) : undefined;
  let started = false;
  let reported = 0;
  const onProgress: ProgressHook = (received, total) => {
    if (!started) console.log(`downloading ${url}`);
    const size = total ?? received;
    if (bar !== undefined) {
      const payload = { got: (received / MB).toFixed(1), size: (size / MB).toFixed(1) };
      if (!started) bar.start(size, received, payload);
      bar.setTotal(size);
      bar.update(received, payload);
    } else if (received - reported >= (total === undefined ? 16 * MB : total / 10) || received === total) {
      reported = received;
      const of = total === undefined ? '' : ` of ${(total / MB).toFixed(1)} MB (${Math.round((100 * received) / total)}%)`;
      console.log(`  ${(received / MB).toFixed(1)} MB${of}`);
    }
    started = true;
  };
  return { onProgress, stop: () => { if (started) bar?.stop(); } };
}

function report(result: ImportResult): void {
  for (const warning of result.warnings) console.error(`warning: ${warning}`);
  const { summary } = result;
  console.log(
    `CIFAR-10 ready in ${summary.dir}: ${summary.trainCount.toLocaleString('en-US')} training and ` +
    `${summary.testCount.toLocaleString('en-US')} test images, fingerprint ${summary.fingerprint}`,
  );
}

/** True when valid data is already in place (says so); a copy that does not validate gets replaced. */
function alreadyThere(root: string): boolean {
  const dir = resolveDataDir(root);
  if (!fs.existsSync(dir)) return false;
  try {
    const summary = validateCifarDir(dir);
    console.log(`CIFAR-10 is already in ${dir} (fingerprint ${summary.fingerprint}); nothing to do (--force fetches it again)`);
    return true;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    console.error(`warning: the data in ${dir} does not validate (${err.message}); fetching it again`);
    return false;
  }
}

/** `cifar-ssl data`: keeps valid data, else imports `from` (or CIFAR_SSL_DATA_FROM), else downloads. The study's first step. */
export async function runData(options: DataOptions): Promise<void> {
  const root = options.dir;
  if (options.from === undefined && !options.force && alreadyThere(root)) return;
  const from = options.from ?? (process.env.CIFAR_SSL_DATA_FROM || undefined);
  if (from !== undefined) {
    report(await importCifar(from, root));
    return;
  }
  const url = process.env.CIFAR_SSL_DATA_URL || OFFICIAL_URL;
  const progress = progressReporter(url);
  let result: ImportResult;
  try {
    result = await downloadCifar(root, { url, md5: process.env.CIFAR_SSL_DATA_MD5 || undefined, onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  report(result);
}

export function register(program: Command): void {
  program
    .command('data')
    .description('download CIFAR-10 (or import a local copy), check it and unpack it into data/cifar-10-batches-bin')
    .option('--dir <dir>', 'folder that will hold cifar-10-batches-bin', 'data')
    .option('--from <path>', 'import a local cifar-10-binary.tar.gz, or an extracted cifar-10-batches-bin folder or its parent, instead of downloading')
    .option('--force', 'download or import again even when valid data is already there', false)
    .addHelpText('after', [
      '',
      'Environment:',
      '  CIFAR_SSL_DATA_FROM  local copy to import when no --from is given (as --from)',
      `  CIFAR_SSL_DATA_URL   download address (default ${OFFICIAL_URL})`,
      '  CIFAR_SSL_DATA_MD5   md5 the download must have (default: the official archive\'s)',
    ].join('\n'))
    .action(async (options: DataOptions) => runData(options));
}
