import { registerOnnxBackend } from './register';

/**
 * Why the onnx backend cannot run here, or undefined when it can: for a program that falls back
 * to another backend, or a test's `skip` option. `register` registers the backend (and any
 * variants a test compares) and throws where onnxruntime-node is missing or does not load.
 */
export function onnxUnavailableReason(register: () => void = () => registerOnnxBackend()): string | undefined {
  try {
    register();
    return undefined;
  } catch (error) {
    return `onnxruntime-node unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}
