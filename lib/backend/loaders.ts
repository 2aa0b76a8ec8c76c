/**
 * How each compute backend is loaded and made current. Each loader resolves to a one-line
 * description of what runs, or throws an Error whose message says why the backend is unusable.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../config/types';
import { registerOnnxBackend } from 'tfjs-backend-onnx';
import { installWasmTrainingKernels } from './wasm-gradients';
import { adapterName } from './webgpu/adapter';
import { registerWebgpuBackend } from './webgpu/register';

/**
 * Makes `name` the current tfjs backend; resolves to what it is, throws with why it is not usable.
 * `explicit`: a person asked for this backend (webgpu then accepts a software adapter).
 */
export async function activateBackend(name: BackendName, explicit = true): Promise<string> {
  switch (name) {
    case 'tensorflow': {
      const binding = loadTensorflowBinding();
      await useBackend('tensorflow');
      return `native TensorFlow through ${binding}`;
    }
    case 'webgpu': {
      const adapter = await registerWebgpuBackend(explicit);
      await useBackend('webgpu');
      return `tfjs-backend-webgpu on Dawn, adapter ${adapterName(adapter)}`;
    }
    case 'onnx':
      registerOnnxBackend(); // throws with the reason when onnxruntime-node is unusable
      await useBackend('onnx');
      return 'ONNX Runtime (onnxruntime-node) for the heavy kernels, the cpu kernels for the rest';
    case 'wasm': {
      pointWasmAtItsFiles();
      installWasmTrainingKernels();
      await useBackend('wasm');
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
      // Node has no SharedArrayBuffer workers for the threaded build, so XNNPACK runs on one core
      return `XNNPACK, ${simd}, single-threaded in Node; conv gradients as forward convs (wasm-gradients.ts)`;
    }
    case 'cpu':
      await useBackend('cpu');
      return 'plain JavaScript kernels (slowest)';
  }
}

async function useBackend(name: string): Promise<void> {
  if (tf.findBackendFactory(name) === null) throw new Error(`no tfjs backend '${name}' is registered`);
  if (!(await tf.setBackend(name))) throw new Error('initialisation failed (see the tfjs warning above)');
  await tf.ready();
}

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Why a fresh install never has the tensorflow backend (shown by `cifar-ssl info`). */
export const TFJS_NODE_UNINSTALLABLE =
  'tfjs-node and tfjs-node-gpu cannot be installed from npm today: their install script downloads libtensorflow ' +
  'from Google\'s storage, which has answered 403 since 2026-08 (tensorflow/tfjs#8742); only a hand-installed libtensorflow loads. ' +
  'The GPU path that installs is the webgpu backend (docs/gpu.md)';

/** Requires the first loadable native binding; returns its name@version. */
function loadTensorflowBinding(): string {
  const problems: string[] = [];
  let onlyAbsent = true;
  for (const name of TENSORFLOW_PACKAGES) {
    const manifest = readManifest(name);
    if (manifest === null) continue;
    if (manifest.name !== name) {
      // danfojs-node's override installs @tensorflow/tfjs under this name
      problems.push(`${name} here is an npm alias of ${manifest.name}, not the native binding`);
      continue;
    }
    onlyAbsent = false;
    try {
      require(name);
    } catch (error) {
      // Installed without its install script (this project's .npmrc sets ignore-scripts), the
      // package has no native binding: the script that would fetch it is the one that fails today.
      const unbuilt = /tfjs_binding\.node\) can not be found/.test(firstLine(error));
      problems.push(unbuilt
        ? `${name} ${manifest.version} is installed without its native binding. ${TFJS_NODE_UNINSTALLABLE}`
        : `${name} ${manifest.version} failed to load: ${firstLine(error)}`);
      continue;
    }
    if (tf.findBackendFactory('tensorflow') === null) {
      problems.push(`${name} ${manifest.version} registered no backend with @tensorflow/tfjs ${tf.version_core} (versions must match)`);
      continue;
    }
    return `${name} ${manifest.version}`;
  }
  if (onlyAbsent) {
    const why = problems.length > 0 ? `; ${problems.join('; ')}` : '';
    throw new Error(
      `not installed (optional dependency; needs @tensorflow/tfjs-node or -gpu ${tf.version_core}, ` +
        `whose install downloads the native TensorFlow library${why}). ${TFJS_NODE_UNINSTALLABLE}`,
    );
  }
  throw new Error(problems.join('; '));
}

/** The package.json of an installed package, or null when it is not installed. */
function readManifest(name: string): { name: string; version: string } | null {
  try {
    return require(`${name}/package.json`) as { name: string; version: string };
  } catch {
    return null;
  }
}

let wasmPathsSet = false;

/** Points the wasm backend at the .wasm binaries in node_modules, whatever the working directory. */
function pointWasmAtItsFiles(): void {
  if (wasmPathsSet) return;
  // the Node entry point sits in dist/ beside tfjs-backend-wasm{,-simd,-threaded-simd}.wasm
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  wasmPathsSet = true;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
