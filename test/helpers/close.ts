import { strict as assert } from 'node:assert';

/**
 * Asserts max |actual − expected| <= tolerance × max |expected|: a backend's result against the cpu
 * backend's. An all-zero reference would check nothing, so it fails, unless `zeroScaleFloor` is
 * given for tensors that may rightly be zero: the floor then stands in for a smaller scale.
 */
export function assertCloseToCpu(
  actual: Float32Array, expected: Float32Array, tolerance: number, what: string,
  options: { backend: string; zeroScaleFloor?: number },
): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  if (options.zeroScaleFloor === undefined) assert.ok(scale > 0, `${what}: the cpu result is all zeros, the test checks nothing`);
  const reference = Math.max(scale, options.zeroScaleFloor ?? 0);
  assert.ok(
    worst <= tolerance * reference,
    `${what}: max |${options.backend} - cpu| ${worst.toExponential(2)} > ${tolerance} x max |cpu| ${scale.toExponential(2)}`,
  );
}
