/**
 * relu(a + b), the end of a ResNet basic block, as one op with its own gradient, for backends
 * that implement it as kernels. Composed, it is an add and a ReLU pass forward and a step and a
 * multiply pass backward, each over a whole activation map; the kernels do one pass each way and
 * give the same bits (the study's test/fused-add-relu.test.ts). Backends without them keep the composed ops.
 */
import * as tf from '@tensorflow/tfjs';

/** Kernel: inputs a, b (one shape) -> y = max(a + b, 0). */
export const ADD_RELU = 'CifarSslAddRelu';
/** Kernel: inputs y (a ReLU's output), dy -> dy * step(y), the gradient at the ReLU's input. */
export const RELU_GRAD = 'CifarSslReluGrad';

/** Whether the active backend has the kernels. */
export function hasFusedAddRelu(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(ADD_RELU, backend) !== undefined && tf.getKernel(RELU_GRAD, backend) !== undefined;
}

/** relu(a + b) for a and b of one shape, differentiable in both. Requires hasFusedAddRelu(). */
export function fusedAddRelu<T extends tf.Tensor>(a: T, b: T): T {
  const engine = tf.engine();
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [aIn, bIn] = args as tf.Tensor[];
    const save = args[2] as tf.GradSaveFunc;
    const y = engine.runKernel(ADD_RELU, { a: aIn, b: bIn }) as tf.Tensor;
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dx = engine.runKernel(RELU_GRAD, { y: saved[0], dy }) as tf.Tensor;
        // Each input gets a tensor of its own (sharing the values): tfjs disposes a gradient once
        // it has been added into an input's total.
        return [dx, tf.clone(dx)];
      },
    };
  });
  return op(a, b) as T;
}
