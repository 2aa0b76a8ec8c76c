import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** md5 of a file as lowercase hex, read as a stream (archives are too large to read at once). */
export async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
