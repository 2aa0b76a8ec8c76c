/**
 * The SGD update of one parameter (weight decay, momentum, Nesterov) as one kernel, for backends
 * that implement it. Composed of tf ops it is 8-10 small ops per parameter, and for the quick
 * encoder's 30 parameters their dispatch costs more than the arithmetic; the kernel is one call.
 * It rounds to float32 after every operation, exactly as the composed ops do, so both give the
 * same bits (the study's test/optim-fused-sgd.test.ts checks it through its optimizer).
 */
import * as tf from '@tensorflow/tfjs';

/** Kernel: inputs w, g and (with momentum) v -> new w and (with momentum) new v. */
export const SGD_UPDATE = 'CifarSslSgdUpdate';

export interface SgdUpdateAttrs {
  learningRate: number;
  /** 0: no momentum buffer (input v absent) */
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Whether the active backend has the kernel. */
export function hasFusedSgd(): boolean {
  return tf.getKernel(SGD_UPDATE, tf.getBackend()) !== undefined;
}

/**
 * The update in float32 arithmetic, operation by operation as SgdOptimizer's composed ops:
 *   g' = g + w wd;  v' = v mu + g';  u = g' + v' mu (Nesterov) or v' (or g' without momentum);
 *   w' = w - u lr.
 * `v` and `vOut` are absent without momentum. Outputs may not alias inputs.
 */
export function sgdUpdateInto(
  w: Float32Array, g: Float32Array, v: Float32Array | undefined, attrs: SgdUpdateAttrs,
  wOut: Float32Array, vOut: Float32Array | undefined,
): void {
  const f = Math.fround;
  // The composed ops see these as float32 scalars.
  const [lr, mu, wd] = [f(attrs.learningRate), f(attrs.momentum), f(attrs.weightDecay)];
  const n = w.length;
  if (v === undefined || vOut === undefined) {
    for (let i = 0; i < n; i++) {
      const gi = f(g[i] + f(w[i] * wd));
      wOut[i] = w[i] - f(gi * lr);
    }
    return;
  }
  if (attrs.nesterov) {
    for (let i = 0; i < n; i++) {
      const gi = f(g[i] + f(w[i] * wd));
      const vi = f(f(v[i] * mu) + gi);
      vOut[i] = vi;
      wOut[i] = w[i] - f(f(gi + f(vi * mu)) * lr);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const gi = f(g[i] + f(w[i] * wd));
    const vi = f(f(v[i] * mu) + gi);
    vOut[i] = vi;
    wOut[i] = w[i] - f(vi * lr);
  }
}

/** New values of w and (with momentum) v from the kernel. Requires hasFusedSgd(). */
export function fusedSgdUpdate(w: tf.Tensor, g: tf.Tensor, v: tf.Tensor | undefined, attrs: SgdUpdateAttrs): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = v === undefined ? { w, g } : { w, g, v };
  return tf.engine().runKernel(SGD_UPDATE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
