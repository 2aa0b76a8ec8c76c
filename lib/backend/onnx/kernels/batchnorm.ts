/** FusedBatchNorm (tf.batchNorm) on ORT: y = (x - mean) * scale / sqrt(variance + eps) + offset. */
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec, NodeSpec, ValueSpec } from '../proto';
import { MIN_ORT_ELEMENTS } from './elementwise';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';

interface BatchNormShapes {
  x: number[];
  mean: number[];
  variance: number[];
  offset?: number[];
  scale?: number[];
}

/**
 * Folds the statistics into one multiplier a = scale / sqrt(variance + eps) and one shift
 * b = offset - mean * a (small tensors), so the activation map is read once: y = x * a + b.
 */
function batchNormGraph(shapes: BatchNormShapes, epsilon: number): GraphSpec {
  const nodes: NodeSpec[] = [
    { op: 'Add', inputs: ['variance', 'epsilon'], outputs: ['var_eps'] },
    { op: 'Sqrt', inputs: ['var_eps'], outputs: ['std'] },
    { op: 'Reciprocal', inputs: ['std'], outputs: shapes.scale ? ['inv_std'] : ['a'] },
  ];
  if (shapes.scale) nodes.push({ op: 'Mul', inputs: ['inv_std', 'scale'], outputs: ['a'] });
  nodes.push({ op: 'Mul', inputs: ['mean', 'a'], outputs: ['mean_a'] });
  if (shapes.offset) {
    nodes.push({ op: 'Sub', inputs: ['offset', 'mean_a'], outputs: ['b'] });
  } else {
    nodes.push({ op: 'Neg', inputs: ['mean_a'], outputs: ['b'] });
  }
  nodes.push(
    { op: 'Mul', inputs: ['x', 'a'], outputs: ['x_a'] },
    { op: 'Add', inputs: ['x_a', 'b'], outputs: ['y'] },
  );
  const inputs: ValueSpec[] = [
    { name: 'x', type: 'float', shape: shapes.x },
    { name: 'mean', type: 'float', shape: shapes.mean },
    { name: 'variance', type: 'float', shape: shapes.variance },
  ];
  if (shapes.offset) inputs.push({ name: 'offset', type: 'float', shape: shapes.offset });
  if (shapes.scale) inputs.push({ name: 'scale', type: 'float', shape: shapes.scale });
  return {
    nodes,
    consts: [{ name: 'epsilon', type: 'float', shape: [], values: [epsilon] }],
    inputs,
    outputs: [{ name: 'y', type: 'float', shape: shapes.x }],
  };
}

export const fusedBatchNorm: OnnxKernel = withFallback<tf.FusedBatchNormAttrs>(
  tf.FusedBatchNorm,
  ({ inputs, backend, attrs }) => {
    const { x, mean, variance } = inputs;
    const offset: tf.TensorInfo | undefined = inputs.offset;
    const scale: tf.TensorInfo | undefined = inputs.scale;
    if (!allFloat32(x, mean, variance, offset, scale) || tf.util.sizeFromShape(x.shape) < MIN_ORT_ELEMENTS) return undefined;
    // The statistics must broadcast into x without growing it (as the cpu kernel assumes).
    const fits = (t: tf.TensorInfo | undefined) =>
      t === undefined || tf.util.arraysEqual(tf.backend_util.assertAndGetBroadcastShape(x.shape, t.shape), x.shape);
    if (![mean, variance, offset, scale].every(fits)) return undefined;
    const shapes: BatchNormShapes = { x: x.shape, mean: mean.shape, variance: variance.shape, offset: offset?.shape, scale: scale?.shape };
    const feeds = [backend.feed('x', x), backend.feed('mean', mean), backend.feed('variance', variance)];
    if (offset !== undefined) feeds.push(backend.feed('offset', offset));
    if (scale !== undefined) feeds.push(backend.feed('scale', scale));
    const [y] = backend.runGraph(
      `batchnorm|${JSON.stringify(shapes)}|${attrs.varianceEpsilon}`,
      () => batchNormGraph(shapes, attrs.varianceEpsilon),
      feeds,
      [{ name: 'y', shape: x.shape }],
    );
    return y;
  },
);
