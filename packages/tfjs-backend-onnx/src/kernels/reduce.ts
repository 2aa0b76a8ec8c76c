/**
 * Sum and Mean over axes on ORT for large float32 tensors: batch-norm statistics and the
 * per-channel gradient sums reduce whole activation maps to one value per channel. Reducing the
 * leading (or trailing) axes is a matrix product with a vector of ones (or of 1/n), which ORT's
 * GEMM does several times faster than its ReduceSum.
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec } from '../proto';
import { allFloat32, MIN_LARGE_ELEMENTS, withFallback, type OnnxKernel } from './kernel-utils';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

type Reduction = 'sum' | 'mean';

/**
 * x [shape] -> y [outShape], reducing `axes` (sorted). Axes 0..k-1 of x seen as [R, C]: ones[1, R]
 * x [R, C]; axes k..end seen as [R, C]: x [R, C] ones[C, 1]; any other set: ReduceSum/ReduceMean.
 */
function reduceGraph(kind: Reduction, shape: number[], axes: number[], outShape: number[]): GraphSpec {
  const rank = shape.length;
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  const reduced = axes.reduce((n, a) => n * shape[a], 1);
  const kept = tf.util.sizeFromShape(shape) / reduced;
  const io = {
    inputs: [{ name: 'x', type: 'float' as const, shape }],
    outputs: [{ name: 'y', type: 'float' as const, shape: outShape }],
  };
  if (leading || trailing) {
    const weight = kind === 'sum' ? 1 : 1 / reduced;
    const matrix = leading ? [reduced, kept] : [kept, reduced];
    const ones = leading ? [1, reduced] : [reduced, 1];
    return {
      ...io,
      nodes: [
        { op: 'Reshape', inputs: ['x', 'matrix_shape'], outputs: ['x2d'] },
        { op: 'MatMul', inputs: leading ? ['ones', 'x2d'] : ['x2d', 'ones'], outputs: ['y2d'] },
        { op: 'Reshape', inputs: ['y2d', 'out_shape'], outputs: ['y'] },
      ],
      consts: [
        { name: 'matrix_shape', type: 'int64', shape: [2], values: matrix },
        { name: 'ones', type: 'float', shape: ones, values: new Array<number>(reduced).fill(weight) },
        { name: 'out_shape', type: 'int64', shape: [outShape.length], values: outShape },
      ],
    };
  }
  // ReduceSum takes its axes as an input since opset 13, ReduceMean as an attribute until 18.
  return kind === 'sum'
    ? {
        ...io,
        nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: 0 } }],
        consts: [{ name: 'axes', type: 'int64', shape: [axes.length], values: axes }],
      }
    : { ...io, nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes, keepdims: 0 } }] };
}

function reduceKernel(kernelName: string, kind: Reduction): OnnxKernel {
  return withFallback<ReduceAttrs>(kernelName, ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!allFloat32(x) || tf.util.sizeFromShape(x.shape) < MIN_LARGE_ELEMENTS) return undefined;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    if (axes.length === 0) return undefined;
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const [y] = backend.runGraph(
      `reduce|${kind}|${x.shape}|${axes}`,
      () => reduceGraph(kind, x.shape, axes, outShape),
      [backend.feed('x', x)],
      [{ name: 'y', shape }],
    );
    return y;
  });
}

export const reduceKernels: OnnxKernel[] = [reduceKernel(tf.Sum, 'sum'), reduceKernel(tf.Mean, 'mean')];
