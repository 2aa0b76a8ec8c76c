/**
 * Sum and Mean over axes on ORT for large float32 tensors: batch-norm statistics and the
 * per-channel gradient sums reduce whole activation maps to one value per channel.
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec, NodeSpec } from '../proto';
import { MIN_ORT_ELEMENTS } from './elementwise';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** x [shape] reduced over `axes` -> y [outShape]. ReduceSum takes its axes as an input since opset 13. */
function reduceGraph(op: 'ReduceSum' | 'ReduceMean', shape: number[], axes: number[], outShape: number[]): GraphSpec {
  const keepdims = 0;
  const node: NodeSpec =
    op === 'ReduceSum'
      ? { op, inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims } }
      : { op, inputs: ['x'], outputs: ['y'], attrs: { axes, keepdims } };
  return {
    nodes: [node],
    consts: op === 'ReduceSum' ? [{ name: 'axes', type: 'int64', shape: [axes.length], values: axes }] : [],
    inputs: [{ name: 'x', type: 'float', shape }],
    outputs: [{ name: 'y', type: 'float', shape: outShape }],
  };
}

function reduceKernel(kernelName: string, op: 'ReduceSum' | 'ReduceMean'): OnnxKernel {
  return withFallback<ReduceAttrs>(kernelName, ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!allFloat32(x) || tf.util.sizeFromShape(x.shape) < MIN_ORT_ELEMENTS) return undefined;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    if (axes.length === 0) return undefined;
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const [y] = backend.runGraph(
      `${op}|${x.shape}|${axes}`,
      () => reduceGraph(op, x.shape, axes, outShape),
      [backend.feed('x', x)],
      [{ name: 'y', shape }],
    );
    return y;
  });
}

export const reduceKernels: OnnxKernel[] = [reduceKernel(tf.Sum, 'ReduceSum'), reduceKernel(tf.Mean, 'ReduceMean')];
