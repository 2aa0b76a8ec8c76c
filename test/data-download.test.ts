import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { downloadCifar, downloadFile } from '../lib/data';
import { md5OfFile } from '../lib/data/checksum';
import { DataError } from '../lib/util/errors';
import { makeTarGz, makeTempDir, removeDir, writeSyntheticCifar } from './helpers/synthetic-cifar';

const temp = makeTempDir();
let archive: Buffer;
let md5 = '';
let server: http.Server;
let base = '';

/**
 * /full sends the archive, /chunked sends it without Content-Length, /broken announces the full
 * length but closes the connection half-way, /moved redirects to /full, anything else is a 404.
 */
function serve(request: http.IncomingMessage, response: http.ServerResponse): void {
  if (request.url === '/full') {
    response.writeHead(200, { 'Content-Length': archive.length });
    response.end(archive);
  } else if (request.url === '/chunked') {
    response.writeHead(200);
    response.write(archive.subarray(0, 1000));
    response.end(archive.subarray(1000));
  } else if (request.url === '/broken') {
    response.writeHead(200, { 'Content-Length': archive.length });
    response.write(archive.subarray(0, archive.length >> 1), () => response.socket?.destroy());
  } else if (request.url === '/moved') {
    response.writeHead(302, { Location: '/full' });
    response.end();
  } else {
    response.writeHead(404);
    response.end();
  }
}

before(async () => {
  const source = path.join(temp, 'source');
  writeSyntheticCifar(source, { trainPerClass: 20, testPerClass: 5 });
  const file = await makeTarGz(source, path.join(temp, 'synthetic.tar.gz'));
  archive = fs.readFileSync(file);
  md5 = await md5OfFile(file);
  server = http.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeDir(temp);
});

test('a complete download is checked, kept as the archive and imported', async () => {
  const root = path.join(temp, 'complete');
  const progress: Array<[number, number | undefined]> = [];
  const result = await downloadCifar(root, { url: `${base}/moved`, md5, strict: false, onProgress: (got, total) => progress.push([got, total]) });
  assert.equal(result.downloaded, true);
  assert.equal(result.summary.trainCount, 200);
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(fs.readdirSync(root).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
  assert.deepEqual(progress[progress.length - 1], [archive.length, archive.length]);
  // a second call finds the complete archive and downloads nothing
  const again = await downloadCifar(root, { url: `${base}/nothing-here`, md5, strict: false });
  assert.equal(again.downloaded, false);
});

test('without Content-Length the md5 decides', async () => {
  const dest = path.join(temp, 'chunked', 'a.tar.gz');
  await downloadFile(`${base}/chunked`, dest, md5);
  assert.equal(await md5OfFile(dest), md5);
});

test('a download that breaks off is not taken for a complete one', async () => {
  const root = path.join(temp, 'broken');
  writeSyntheticCifar(root, { trainPerClass: 1, testPerClass: 1, seed: 9 }); // existing data must survive
  const before = fs.readFileSync(path.join(root, 'cifar-10-batches-bin', 'test_batch.bin'));
  await assert.rejects(downloadCifar(root, { url: `${base}/broken`, md5, strict: false }), (err: Error) =>
    err instanceof DataError &&
    new RegExp(`could not download ${base}/broken \\(the download broke off after \\d+ of ${archive.length} bytes\\).*--from PATH`).test(err.message));
  assert.deepEqual(fs.readdirSync(root), ['cifar-10-batches-bin'], 'no archive and no .part file may remain');
  assert.deepEqual(fs.readFileSync(path.join(root, 'cifar-10-batches-bin', 'test_batch.bin')), before);
});

test('a download with the wrong md5 is rejected', async () => {
  const dest = path.join(temp, 'wrong-md5', 'a.tar.gz');
  await assert.rejects(downloadFile(`${base}/full`, dest, '0'.repeat(32)), /has md5 [0-9a-f]{32}, expected 0{32}/);
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), []);
});

test('an unreachable address or an HTTP error names the URL and suggests --from', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const unreachable = `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`;
  await assert.rejects(downloadFile(unreachable, path.join(temp, 'x', 'a.tar.gz'), md5),
    (err: Error) => err instanceof DataError && err.message.startsWith(`could not download ${unreachable} (ECONNREFUSED: connection refused)`) && err.message.includes('--from PATH'));
  await assert.rejects(downloadFile(`${base}/missing`, path.join(temp, 'x', 'b.tar.gz'), md5), /could not download .*\/missing \(HTTP 404\)/);
});
