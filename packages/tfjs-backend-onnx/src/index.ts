/**
 * tfjs-backend-onnx: a TensorFlow.js backend for Node that runs the heavy kernels of training
 * (convolutions and their gradients, matrix products, reductions, pooling) on ONNX Runtime's CPU
 * kernels and the element-wise passes as WebAssembly SIMD loops; every other kernel is the cpu
 * backend's. Usage:
 *
 *   import * as tf from '@tensorflow/tfjs';
 *   import { registerOnnxBackend } from 'tfjs-backend-onnx';
 *   registerOnnxBackend();             // throws with the reason where onnxruntime-node cannot load
 *   await tf.setBackend('onnx');
 *
 * Importing this module loads neither ONNX Runtime nor koffi: both are required when the backend
 * is registered, so a program can import it unconditionally and fall back on an error.
 */
export {
  BACKGROUND_ENV_VAR, defaultBackgroundThread, defaultRowThread, ONNX_BACKEND_NAME, onnxKernelNames, registerOnnxBackend, registerOnnxBackendAs, ROW_THREAD_ENV_VAR,
  type OnnxBackendOptions,
} from './register';
export type { FilterGradientRoute, OnnxBackend, StridedInputGradientRoute } from './backend';
export { onnxUnavailableReason } from './availability';
export { defaultThreadCount } from './runtime';
export { kernelTimings, resetKernelTimings, type KernelTiming } from './timing';
export * from './ops';
