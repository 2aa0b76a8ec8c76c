/** The fused SGD update (src/ops/fused-sgd.ts) on this backend's typed arrays. */
import * as tf from '@tensorflow/tfjs';
import { SGD_UPDATE, sgdUpdateInto, type SgdUpdateAttrs } from '../ops/fused-sgd';
import type { OnnxKernel, OnnxKernelArgs } from './kernel-utils';

function sgdUpdate({ inputs, backend, attrs }: OnnxKernelArgs<SgdUpdateAttrs>): tf.TensorInfo[] {
  const { w, g, v } = inputs;
  for (const t of [w, g, v]) {
    if (t !== undefined && (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, w.shape))) {
      throw new Error(`${SGD_UPDATE}: w, g and v must be float32 of one shape; got ${[w, g, v].map((x) => x && `${x.dtype}[${x.shape}]`).join(', ')}`);
    }
  }
  if ((v === undefined) !== (attrs.momentum === 0)) throw new Error(`${SGD_UPDATE}: give v exactly when momentum > 0`);
  const wOut = backend.output(w.shape);
  const vOut = v === undefined ? undefined : backend.output(w.shape);
  sgdUpdateInto(backend.float32(w), backend.float32(g), v && backend.float32(v), attrs, wOut, vOut);
  const outputs = [backend.makeTensorInfo([...w.shape], 'float32', wOut)];
  if (vOut !== undefined) outputs.push(backend.makeTensorInfo([...w.shape], 'float32', vOut));
  return outputs;
}

export const sgdUpdateKernel: OnnxKernel = { kernelName: SGD_UPDATE, kernelFunc: sgdUpdate as unknown as tf.KernelFunc };
