/** Arrays in a SIMD arena for the tests of the onnx backend's WebAssembly kernels. */
import * as assert from 'node:assert/strict';
import type { WasmArena } from '../../src/simd/arena';
import type { Rng } from './random';

/** A block of `length` floats from the arena, filled with scale * N(0, 1) + offset. */
export function filledBlock(arena: WasmArena, length: number, rng: Rng, scale = 1, offset = 0): Float32Array {
  const values = arena.take(length);
  assert.ok(values !== undefined, 'arena full');
  for (let i = 0; i < length; i++) values[i] = scale * rng.normal() + offset;
  return values;
}
