import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './lib/backend/select';
function time(f: () => tf.Tensor, reps = 3) {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const r = f(); r.dataSync(); r.dispose(); }
  return (performance.now() - t0) / reps;
}
(async () => {
  await selectBackend('wasm');
  const x = tf.randomNormal([64, 32, 32, 64]) as tf.Tensor4D, dy = tf.randomNormal([64, 32, 32, 64]) as tf.Tensor4D, w = tf.randomNormal([3,3,64,64]) as tf.Tensor4D;
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const fwd = run('Conv2D', { x, filter: w }, { ...conv, dilations: 1 });
  const dx = run('Conv2DBackpropInput', { dy, filter: w }, { ...conv, inputShape: x.shape });
  const dW = run('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: w.shape });
  fwd().dispose(); dx().dispose(); dW().dispose();
  for (let i = 0; i < 4; i++) console.log('fwd', time(fwd).toFixed(0), 'dx', time(dx).toFixed(0), 'dW', time(dW).toFixed(0));
})();
