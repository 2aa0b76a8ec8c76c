import { registerOnnxBackend } from '../../lib/backend/onnx/register';

/**
 * Why the onnx backend cannot run here, or undefined when it can: a test's `skip` option.
 * `register` registers the backend (and any variants the test compares) and throws where
 * onnxruntime-node is missing or does not load.
 */
export function onnxUnavailableReason(register: () => void = () => registerOnnxBackend()): string | undefined {
  try {
    register();
    return undefined;
  } catch (error) {
    return `onnxruntime-node unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}
