import { Rng } from '../util/random';

/** Result of a principal component analysis. */
export interface PcaResult {
  /** the points in the principal axes, row-major [n, k] */
  projected: Float32Array;
  /** principal directions, unit length, row-major [k, d] */
  components: Float64Array;
  /** variance along each direction (eigenvalues of the covariance), descending */
  variances: number[];
  /** each variance as a fraction of the total variance */
  explainedRatio: number[];
}

/**
 * Principal component analysis by subspace (block power) iteration on the centred data, so
 * the d x d covariance is never formed: each iteration costs two passes over X.
 * @param x features, row-major [n, d]
 * @param k number of components (2 for a scatter plot)
 * Signs are fixed so each component's largest-magnitude entry is positive (repeatable plots).
 */
export function pca(x: Float32Array, n: number, d: number, k = 2, seed = 0): PcaResult {
  if (x.length !== n * d) throw new Error(`pca: expected ${n}x${d} = ${n * d} values, got ${x.length}`);
  if (k < 1 || k > d || n < 2) throw new Error(`pca: need 1 <= k <= d and n >= 2 (k=${k}, d=${d}, n=${n})`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const centred = new Float64Array(n * d); // [n, d]
  let total = 0;
  for (let i = 0; i < n * d; i++) {
    centred[i] = x[i] - mean[i % d];
    total += centred[i] * centred[i];
  }
  total /= n - 1;

  const rng = new Rng(seed);
  let v = new Float64Array(k * d); // [k, d]
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  orthonormalise(v, k, d);
  for (let iter = 0; iter < 1000; iter++) {
    const next = covarianceTimes(centred, n, d, v, k);
    orthonormalise(next, k, d);
    const change = maxDirectionChange(v, next, k, d);
    v = next;
    if (change < 1e-12) break;
  }

  const xv = projectRows(centred, n, d, v, k); // [n, k]
  const variances: number[] = [];
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xv[i * k + c] ** 2;
    variances.push(s / (n - 1));
  }
  fixSigns(v, xv, n, k, d);
  return {
    projected: Float32Array.from(xv),
    components: v,
    variances,
    explainedRatio: variances.map((s) => (total > 0 ? s / total : 0)),
  };
}

/** X v^T for rows of X [n, d] and directions v [k, d] → [n, k]. */
function projectRows(x: Float64Array, n: number, d: number, v: Float64Array, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * v[c * d + j];
      out[i * k + c] = s;
    }
  }
  return out;
}

/** C v for the covariance C = X^T X (up to a scale, which orthonormalisation removes) → [k, d]. */
function covarianceTimes(x: Float64Array, n: number, d: number, v: Float64Array, k: number): Float64Array {
  const xv = projectRows(x, n, d, v, k); // [n, k]
  const out = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const w = xv[i * k + c];
      for (let j = 0; j < d; j++) out[c * d + j] += w * x[i * d + j];
    }
  }
  return out;
}

/** Gram–Schmidt on the rows of v [k, d], in order, so row c converges to the c-th eigenvector. */
function orthonormalise(v: Float64Array, k: number, d: number): void {
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += v[c * d + j] * v[p * d + j];
      for (let j = 0; j < d; j++) v[c * d + j] -= dot * v[p * d + j];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[c * d + j] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < d; j++) v[c * d + j] /= norm;
  }
}

/** Largest 1 - |cos| between matching rows: 0 when every direction stopped moving. */
function maxDirectionChange(a: Float64Array, b: Float64Array, k: number, d: number): number {
  let worst = 0;
  for (let c = 0; c < k; c++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += a[c * d + j] * b[c * d + j];
    worst = Math.max(worst, 1 - Math.abs(dot));
  }
  return worst;
}

function fixSigns(v: Float64Array, xv: Float64Array, n: number, k: number, d: number): void {
  for (let c = 0; c < k; c++) {
    let largest = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[c * d + j]) > Math.abs(largest)) largest = v[c * d + j];
    if (largest >= 0) continue;
    for (let j = 0; j < d; j++) v[c * d + j] = -v[c * d + j];
    for (let i = 0; i < n; i++) xv[i * k + c] = -xv[i * k + c];
  }
}
