/** tfjs fused activations (FusedConv2D, _FusedMatMul) as ONNX nodes. */
import type * as tf from '@tensorflow/tfjs';
import type { ConstSpec, NodeSpec } from './proto';

/** Nodes applying a tfjs fused activation to `input`, ending in `output`; undefined if unknown. */
export function activationNodes(
  activation: tf.fused.Activation,
  input: string,
  output: string,
  leakyreluAlpha = 0.2,
): { nodes: NodeSpec[]; consts: ConstSpec[] } | undefined {
  const one = (op: string, inputs: string[], attrs?: NodeSpec['attrs']) => ({ nodes: [{ op, inputs, outputs: [output], attrs }], consts: [] });
  switch (activation) {
    case 'linear':
      return one('Identity', [input]);
    case 'relu':
      return one('Relu', [input]);
    case 'relu6':
      return {
        nodes: [{ op: 'Clip', inputs: [input, 'act_zero', 'act_six'], outputs: [output] }],
        consts: [
          { name: 'act_zero', type: 'float', shape: [], values: [0] },
          { name: 'act_six', type: 'float', shape: [], values: [6] },
        ],
      };
    case 'elu':
      return one('Elu', [input], { alpha: { float: 1 } });
    case 'sigmoid':
      return one('Sigmoid', [input]);
    case 'leakyrelu':
      return one('LeakyRelu', [input], { alpha: { float: leakyreluAlpha } });
    case 'prelu':
      return one('PRelu', [input, 'prelu']);
    default:
      return undefined;
  }
}
