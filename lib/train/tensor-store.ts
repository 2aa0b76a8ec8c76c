import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { UserError } from '../util/errors';

/** Where one named tensor sits inside `<name>.bin`. */
interface StoredTensor {
  name: string;
  shape: number[];
  /** float32 elements before this tensor in the file */
  offset: number;
}

interface TensorIndex {
  format: 'cifar-ssl-tensors/1';
  tensors: StoredTensor[];
}

/**
 * Writes named float32 tensors as `<name>.bin` (raw little-endian) plus `<name>.json` (index).
 * Both files are written atomically; callers that need the pair to change together write them into
 * a fresh folder and rename the folder (see `replaceDirAtomic`).
 */
export function writeTensors(dir: string, name: string, tensors: Map<string, tf.Tensor>): void {
  const entries = [...tensors.entries()];
  const total = entries.reduce((sum, [, t]) => sum + t.size, 0);
  const data = new Float32Array(total);
  const index: TensorIndex = { format: 'cifar-ssl-tensors/1', tensors: [] };
  let offset = 0;
  for (const [tensorName, tensor] of entries) {
    data.set(tensor.dataSync() as Float32Array, offset);
    index.tensors.push({ name: tensorName, shape: tensor.shape.slice(), offset });
    offset += tensor.size;
  }
  writeFileAtomic(path.join(dir, `${name}.bin`), new Uint8Array(data.buffer));
  writeJsonAtomic(path.join(dir, `${name}.json`), index);
}

/** Reads what `writeTensors` wrote, as plain arrays keyed by name. */
export function readTensors(dir: string, name: string): Map<string, { shape: number[]; values: Float32Array }> {
  const indexPath = path.join(dir, `${name}.json`);
  const binPath = path.join(dir, `${name}.bin`);
  for (const file of [indexPath, binPath]) {
    if (!fs.existsSync(file)) throw new UserError(`${file}: missing; the checkpoint or weights folder is incomplete`);
  }
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as TensorIndex;
  const bytes = fs.readFileSync(binPath);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const result = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const entry of index.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + size > data.length) throw new UserError(`${binPath}: truncated (tensor ${entry.name} runs past the end)`);
    result.set(entry.name, { shape: entry.shape, values: data.slice(entry.offset, entry.offset + size) });
  }
  return result;
}

/** Assigns stored values to variables; every variable must be present with the same shape. */
export function assignTensors(
  variables: Map<string, tf.Variable>,
  stored: Map<string, { shape: number[]; values: Float32Array }>,
  source: string,
): void {
  for (const [name, variable] of variables) {
    const entry = stored.get(name);
    if (!entry) throw new UserError(`${source}: has no tensor named ${name}; it was saved from another configuration`);
    if (entry.shape.join('x') !== variable.shape.join('x')) {
      throw new UserError(`${source}: ${name} has shape [${entry.shape}] but the model expects [${variable.shape}]`);
    }
    tf.tidy(() => variable.assign(tf.tensor(entry.values, entry.shape, variable.dtype)));
  }
}
