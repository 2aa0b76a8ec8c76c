/** BatchMatMul and _FusedMatMul (bias and activation) on ORT. */
import * as tf from '@tensorflow/tfjs';
import { activationNodes } from '../activation';
import type { GraphSpec, NodeSpec } from '../proto';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';

/** Smaller products (multiply-adds) stay on the cpu backend. */
const MIN_ORT_MACS = 32768;

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: tf.fused.Activation;
  leakyreluAlpha?: number;
}

interface MatMulPlan {
  aShape: number[];
  bShape: number[];
  outShape: number[];
  biasShape?: number[];
  preluShape?: number[];
  attrs: MatMulAttrs;
}

/** a [..., M, K] (or [..., K, M]), b [..., K, N] (or [..., N, K]) -> y [..., M, N]. */
function matMulGraph(plan: MatMulPlan): GraphSpec {
  const { aShape, bShape, outShape, biasShape, preluShape, attrs } = plan;
  const nodes: NodeSpec[] = [];
  const swapLast = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  let a = 'a';
  let b = 'b';
  // ORT fuses these transposes into its MatMul (FusedMatMul with transA/transB).
  if (attrs.transposeA) {
    nodes.push({ op: 'Transpose', inputs: ['a'], outputs: ['a_t'], attrs: { perm: swapLast(aShape.length) } });
    a = 'a_t';
  }
  if (attrs.transposeB) {
    nodes.push({ op: 'Transpose', inputs: ['b'], outputs: ['b_t'], attrs: { perm: swapLast(bShape.length) } });
    b = 'b_t';
  }
  nodes.push({ op: 'MatMul', inputs: [a, b], outputs: ['product'] });
  let y = 'product';
  if (biasShape !== undefined) {
    nodes.push({ op: 'Add', inputs: [y, 'bias'], outputs: ['biased'] });
    y = 'biased';
  }
  const act = activationNodes(attrs.activation ?? 'linear', y, 'y', attrs.leakyreluAlpha);
  if (act === undefined) throw new Error(`unsupported activation ${attrs.activation}`);
  nodes.push(...act.nodes);
  const inputs = [
    { name: 'a', type: 'float' as const, shape: aShape },
    { name: 'b', type: 'float' as const, shape: bShape },
  ];
  if (biasShape !== undefined) inputs.push({ name: 'bias', type: 'float', shape: biasShape });
  if (preluShape !== undefined) inputs.push({ name: 'prelu', type: 'float', shape: preluShape });
  return { nodes, consts: act.consts, inputs, outputs: [{ name: 'y', type: 'float', shape: outShape }] };
}

function matMulKernel(kernelName: string): OnnxKernel {
  return withFallback<MatMulAttrs>(kernelName, ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    const bias: tf.TensorInfo | undefined = inputs.bias;
    const prelu: tf.TensorInfo | undefined = inputs.preluActivationWeights;
    if (!allFloat32(a, b, bias, prelu) || a.shape.length < 2 || b.shape.length < 2) return undefined;
    const m = attrs.transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const k = attrs.transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const batchShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const outShape = [...batchShape, m, n];
    if (tf.util.sizeFromShape(outShape) * k < MIN_ORT_MACS) return undefined;
    // A bias or PReLU slope that broadcasts in from outside the output shape stays on the cpu.
    const broadcastsInto = (t: tf.TensorInfo | undefined) =>
      t === undefined || tf.util.arraysEqual(tf.backend_util.assertAndGetBroadcastShape(outShape, t.shape), outShape);
    if (!broadcastsInto(bias) || !broadcastsInto(prelu)) return undefined;
    if (activationNodes(attrs.activation ?? 'linear', 'in', 'out') === undefined) return undefined;
    const plan: MatMulPlan = { aShape: a.shape, bShape: b.shape, outShape, biasShape: bias?.shape, preluShape: prelu?.shape, attrs };
    const feeds = [backend.feed('a', a), backend.feed('b', b)];
    if (bias !== undefined) feeds.push(backend.feed('bias', bias));
    if (prelu !== undefined) feeds.push(backend.feed('prelu', prelu));
    const [y] = backend.runGraph(
      `matmul|${a.shape}|${b.shape}|${bias?.shape ?? '-'}|${prelu?.shape ?? '-'}|${JSON.stringify(attrs)}`,
      () => matMulGraph(plan),
      feeds,
      [{ name: 'y', shape: outShape }],
    );
    return y;
  });
}

export const matMulKernels: OnnxKernel[] = [matMulKernel(tf.BatchMatMul), matMulKernel(tf._FusedMatMul)];
