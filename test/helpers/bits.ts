import { strict as assert } from 'node:assert';

/** Asserts that two float32 arrays hold the same bits, NaN matching any NaN (payloads may differ). */
export function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const [a, e] = [new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(expected.buffer, expected.byteOffset, expected.length)];
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(actual[i]) && Number.isNaN(expected[i])) continue;
    assert.equal(a[i], e[i], `${what}[${i}]: ${actual[i]} vs expected ${expected[i]}`);
  }
}
