/**
 * Downloading the CIFAR-10 archive. Bytes go to `<file>.part`; the file gets its real name only
 * when its length equals the server's Content-Length and its md5 is the expected one, so a
 * broken-off download is never taken for a complete one.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { ARCHIVE_NAME, OFFICIAL_MD5, OFFICIAL_URL } from './cifar-format';
import { md5OfFile } from './checksum';
import { ImportResult, importCifar } from './import-data';

/** Called as bytes arrive; `total` is the Content-Length when the server sent one. */
export type ProgressHook = (received: number, total: number | undefined) => void;

export interface DownloadOptions {
  /** where to download from (default: the official release) */
  url?: string;
  /** md5 the downloaded file must have (default: the official release's) */
  md5?: string;
  onProgress?: ProgressHook;
  /** give up when no data arrives for this long, seconds */
  idleTimeoutSeconds?: number;
}

const MAX_REDIRECTS = 5;

/** Plain words for the network errors people meet most. */
const NETWORK_PROBLEMS: Record<string, string> = {
  ENOTFOUND: 'host not found; no internet connection?',
  EAI_AGAIN: 'name lookup failed; no internet connection?',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

function failure(url: string, problem: string): DataError {
  return new DataError(`could not download ${url} (${problem}); run again, or import a local copy with --from PATH`);
}

/** Opens a GET request, following redirects; resolves to the 200 response. */
function openResponse(url: string, idleMs: number, redirectsLeft = MAX_REDIRECTS): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(failure(url, 'not a valid URL'));
      return;
    }
    const get = parsed.protocol === 'https:' ? https.get : http.get;
    const request = get(parsed, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined && redirectsLeft > 0) {
        response.resume();
        resolve(openResponse(new URL(location, parsed).toString(), idleMs, redirectsLeft - 1));
      } else if (status !== 200) {
        response.resume();
        reject(failure(url, `HTTP ${status}`));
      } else {
        resolve(response);
      }
    });
    request.setTimeout(idleMs, () => request.destroy(new Error(`no data for ${idleMs / 1000} s`)));
    request.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      reject(failure(url, code in NETWORK_PROBLEMS ? `${code}: ${NETWORK_PROBLEMS[code]}` : err.message));
    });
  });
}

/** Streams the response body into `file`, hashing it; resolves when the server ends or breaks off. */
function receive(
  response: http.IncomingMessage, file: string, onProgress?: ProgressHook,
): Promise<{ received: number; md5: string; total: number | undefined }> {
  const header = response.headers['content-length'];
  const total = header === undefined ? undefined : Number(header);
  const hash = createHash('md5');
  const out = fs.createWriteStream(file);
  let received = 0;
  let ended = false;
  return new Promise((resolve, reject) => {
    // 'end', 'error' and 'aborted' can all fire for one response; the first one counts
    const done = (): void => {
      if (ended) return;
      ended = true;
      response.removeAllListeners('data');
      out.end(() => resolve({ received, md5: hash.digest('hex'), total }));
    };
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash.update(chunk);
      if (!out.write(chunk)) {
        response.pause();
        out.once('drain', () => response.resume());
      }
      onProgress?.(received, total);
    });
    response.on('end', () => done());
    // a connection that breaks off ends up here ("aborted"); the length check below reports it
    response.on('error', () => done());
    response.on('aborted', () => done());
    out.on('error', (err) => {
      response.destroy();
      reject(new DataError(`cannot write ${file} (${err.message}): check the free disk space and permissions`));
    });
  });
}

/**
 * Downloads `url` to `dest` through `dest.part`; the result is renamed to `dest` only when its
 * length matches Content-Length and its md5 equals `md5`. Any failure removes the part file.
 */
export async function downloadFile(url: string, dest: string, md5: string, options: DownloadOptions = {}): Promise<void> {
  const part = `${dest}.part`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  try {
    const response = await openResponse(url, (options.idleTimeoutSeconds ?? 60) * 1000);
    const got = await receive(response, part, options.onProgress);
    if (got.total !== undefined && got.received !== got.total) {
      throw failure(url, `the download broke off after ${got.received} of ${got.total} bytes`);
    }
    if (got.md5 !== md5) {
      throw failure(url, `the file has md5 ${got.md5}, expected ${md5}: corrupt or not the CIFAR-10 archive`);
    }
    fs.renameSync(part, dest);
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/**
 * Makes sure `<root>/cifar-10-binary.tar.gz` is the expected archive (downloading it unless a
 * complete copy is already there), then imports it into `<root>/cifar-10-batches-bin`.
 */
export async function downloadCifar(
  root: string, options: DownloadOptions & { strict?: boolean } = {},
): Promise<ImportResult & { downloaded: boolean }> {
  const url = options.url ?? OFFICIAL_URL;
  const md5 = options.md5 ?? OFFICIAL_MD5;
  const archive = path.join(root, ARCHIVE_NAME);
  const complete = fs.existsSync(archive) && (await md5OfFile(archive)) === md5;
  if (!complete) await downloadFile(url, archive, md5, options);
  const result = await importCifar(archive, root, { strict: options.strict, expectedMd5: md5 });
  return { ...result, downloaded: !complete };
}
