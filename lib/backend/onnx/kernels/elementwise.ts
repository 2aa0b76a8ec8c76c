/**
 * Element-wise kernels on ORT for large float32 tensors. In a conv-bn-relu training step, once
 * convolutions are fast, these passes over whole activation maps (batch-norm scale and shift,
 * ReLU and its gradient, the residual adds) take most of the time on the cpu backend, whose
 * broadcasting loops compute an index per element.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConstSpec, GraphSpec, NodeSpec } from '../proto';
import { allFloat32, sameShape, withFallback, type OnnxKernel } from './kernel-utils';

/** Smaller outputs stay on the cpu backend: calling into ORT costs tens of microseconds. */
export const MIN_ORT_ELEMENTS = 4096;

/** Nodes from input 'x' (and 'b' for binary ops) to output 'y', plus their constants. */
interface OpNodes {
  nodes: NodeSpec[];
  consts?: ConstSpec[];
}

const scalar = (name: string, value: number): ConstSpec => ({ name, type: 'float', shape: [], values: [value] });
const single = (op: string, inputs = ['x'], attrs?: NodeSpec['attrs']): OpNodes => ({
  nodes: [{ op, inputs, outputs: ['y'], attrs }],
});

/** One-input kernels: tfjs kernel name -> ONNX nodes (attrs are the tfjs kernel's). */
const UNARY: Record<string, (attrs: tf.NamedAttrMap) => OpNodes> = {
  [tf.Relu]: () => single('Relu'),
  [tf.Relu6]: () => ({
    nodes: [{ op: 'Clip', inputs: ['x', 'zero', 'six'], outputs: ['y'] }],
    consts: [scalar('zero', 0), scalar('six', 6)],
  }),
  [tf.LeakyRelu]: (attrs) => single('LeakyRelu', ['x'], { alpha: { float: attrs.alpha as number } }),
  [tf.Elu]: () => single('Elu', ['x'], { alpha: { float: 1 } }),
  [tf.Sigmoid]: () => single('Sigmoid'),
  [tf.Tanh]: () => single('Tanh'),
  [tf.Exp]: () => single('Exp'),
  [tf.Log]: () => single('Log'),
  [tf.Sqrt]: () => single('Sqrt'),
  [tf.Rsqrt]: () => ({
    nodes: [
      { op: 'Sqrt', inputs: ['x'], outputs: ['root'] },
      { op: 'Reciprocal', inputs: ['root'], outputs: ['y'] },
    ],
  }),
  [tf.Reciprocal]: () => single('Reciprocal'),
  [tf.Square]: () => single('Mul', ['x', 'x']),
  [tf.Abs]: () => single('Abs'),
  [tf.Neg]: () => single('Neg'),
  // step(x) = 1 where x > 0, alpha elsewhere, NaN stays NaN (the ReLU gradient is dy * step(x)).
  [tf.Step]: (attrs) => ({
    nodes: [
      { op: 'Greater', inputs: ['x', 'zero'], outputs: ['positive'] },
      { op: 'Where', inputs: ['positive', 'one', 'alpha'], outputs: ['stepped'] },
      { op: 'IsNaN', inputs: ['x'], outputs: ['nan'] },
      { op: 'Where', inputs: ['nan', 'x', 'stepped'], outputs: ['y'] },
    ],
    consts: [scalar('zero', 0), scalar('one', 1), scalar('alpha', attrs.alpha as number)],
  }),
};

/** Two-input kernels (inputs a, b; numpy broadcasting in both libraries). */
const BINARY: Record<string, () => OpNodes> = {
  [tf.Add]: () => single('Add', ['x', 'b']),
  [tf.Sub]: () => single('Sub', ['x', 'b']),
  [tf.Multiply]: () => single('Mul', ['x', 'b']),
  [tf.RealDiv]: () => single('Div', ['x', 'b']),
  [tf.SquaredDifference]: () => ({
    nodes: [
      { op: 'Sub', inputs: ['x', 'b'], outputs: ['diff'] },
      { op: 'Mul', inputs: ['diff', 'diff'], outputs: ['y'] },
    ],
  }),
};

/** Unary graph on a flat tensor of symbolic length, so one session serves every shape. */
function unaryGraph(op: OpNodes): GraphSpec {
  return {
    nodes: op.nodes,
    consts: op.consts,
    inputs: [{ name: 'x', type: 'float', shape: ['n'] }],
    outputs: [{ name: 'y', type: 'float', shape: ['n'] }],
  };
}

function binaryGraph(op: OpNodes, aShape: number[] | string[], bShape: number[] | string[], outShape: number[] | string[]): GraphSpec {
  return {
    nodes: op.nodes,
    consts: op.consts,
    inputs: [
      { name: 'x', type: 'float', shape: aShape },
      { name: 'b', type: 'float', shape: bShape },
    ],
    outputs: [{ name: 'y', type: 'float', shape: outShape }],
  };
}

function unaryKernel(kernelName: string, build: (attrs: tf.NamedAttrMap) => OpNodes): OnnxKernel {
  return withFallback<tf.NamedAttrMap>(kernelName, ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!allFloat32(x) || tf.util.sizeFromShape(x.shape) < MIN_ORT_ELEMENTS) return undefined;
    const size = tf.util.sizeFromShape(x.shape);
    const [y] = backend.runGraph(
      `unary|${kernelName}|${JSON.stringify(attrs ?? {})}`,
      () => unaryGraph(build(attrs ?? {})),
      [{ name: 'x', data: backend.float32(x), dims: [size] }],
      [{ name: 'y', shape: [...x.shape] }],
    );
    return y;
  });
}

function binaryKernel(kernelName: string, build: () => OpNodes): OnnxKernel {
  return withFallback(kernelName, ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!allFloat32(a, b)) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    if (size < MIN_ORT_ELEMENTS) return undefined;
    if (sameShape(a.shape, b.shape)) {
      // Same shapes: flatten, so one session serves every shape.
      const [y] = backend.runGraph(
        `binary|${kernelName}|flat`,
        () => binaryGraph(build(), ['n'], ['n'], ['n']),
        [
          { name: 'x', data: backend.float32(a), dims: [size] },
          { name: 'b', data: backend.float32(b), dims: [size] },
        ],
        [{ name: 'y', shape: outShape }],
      );
      return y;
    }
    const [y] = backend.runGraph(
      `binary|${kernelName}|${a.shape}|${b.shape}`,
      () => binaryGraph(build(), a.shape, b.shape, outShape),
      [backend.feed('x', a), backend.feed('b', b)],
      [{ name: 'y', shape: outShape }],
    );
    return y;
  });
}

export const elementwiseKernels: OnnxKernel[] = [
  ...Object.entries(UNARY).map(([name, build]) => unaryKernel(name, build)),
  ...Object.entries(BINARY).map(([name, build]) => binaryKernel(name, build)),
];
