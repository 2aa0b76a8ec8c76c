/**
 * The `webgpu` backend: @tensorflow/tfjs-backend-webgpu's kernels on Dawn (the npm package
 * `webgpu`), registered with a factory of our own so that the adapter is checked first (a software
 * adapter only when asked for), the device gets the adapter's buffer limits, dataSync() works in
 * Node, oversized tensors fail with the limit named, and device errors are not lost.
 */
import * as tf from '@tensorflow/tfjs';
import { type AdapterReport, adapterName, describeAdapter, requestDevice } from './adapter';
import { installBufferLimits } from './buffer-limits';
import { dawnGpu, exposeAsNavigatorGpu } from './dawn';
import type { GpuAdapter, GpuAdapterInfo, GpuDevice } from './gpu-types';
import type { WebgpuBackendInternals } from './internals';
import { installSyncRead } from './sync-read';

interface TfjsWebgpuModule {
  WebGPUBackend: new (device: GpuDevice, adapterInfo: GpuAdapterInfo) => tf.KernelBackend;
}

let found: { adapter: GpuAdapter; report: AdapterReport } | undefined;
let registered = false;
/** validation errors and device loss reported by Dawn since the last check */
const deviceErrors: string[] = [];

/**
 * Finds the adapter (once per process) and registers the `webgpu` backend for it. Throws with the
 * reason when the packages or an adapter are missing, or when the adapter is a software one and
 * `allowSoftware` is false (automatic selection: it runs on the CPU, slower than onnx).
 */
export async function registerWebgpuBackend(allowSoftware: boolean): Promise<AdapterReport> {
  const { adapter, report } = await findAdapter();
  if (report.software && !allowSoftware) {
    throw new Error(`only a software adapter: ${adapterName(report)}; not chosen automatically (--backend webgpu uses it)`);
  }
  if (!registered) {
    tf.registerBackend('webgpu', () => makeBackend(adapter));
    registered = true;
  }
  return report;
}

/** The adapter's report, finding it if no backend selection has yet; the reason when there is none. */
export async function webgpuAdapter(): Promise<AdapterReport | { unavailable: string }> {
  try {
    return (await findAdapter()).report;
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

async function findAdapter(): Promise<{ adapter: GpuAdapter; report: AdapterReport }> {
  if (found !== undefined) return found;
  const gpu = dawnGpu();
  // The package registers a factory of its own on import when navigator.gpu already exists:
  // imported first, it leaves the name `webgpu` to ours.
  loadTfjsWebgpu();
  exposeAsNavigatorGpu(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    throw new Error('Dawn found no WebGPU adapter (Linux: needs libvulkan1 and a Vulkan driver; Debian bookworm\'s ' +
      'mesa-vulkan-drivers 22.3 is refused, the 25.x of bookworm-backports gives a software adapter)');
  }
  found = { adapter, report: describeAdapter(adapter) };
  return found;
}

function loadTfjsWebgpu(): TfjsWebgpuModule {
  try {
    return require('@tensorflow/tfjs-backend-webgpu') as TfjsWebgpuModule;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`the optional package @tensorflow/tfjs-backend-webgpu ${tf.version_core} is not installed or does not load: ${message}`);
  }
}

async function makeBackend(adapter: GpuAdapter): Promise<tf.KernelBackend> {
  const device = await requestDevice(adapter);
  device.onuncapturederror = (event) => {
    if (deviceErrors.length === 0) console.error(`webgpu: ${event.error.message}`);
    deviceErrors.push(event.error.message);
  };
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') deviceErrors.push(`the GPU device was lost: ${info.message}`);
  });
  const backend = new (loadTfjsWebgpu().WebGPUBackend)(device, adapter.info) as WebgpuBackendInternals;
  installBufferLimits(backend);
  installSyncRead(backend, throwDeviceErrors);
  // Small tensors that still sit in JavaScript memory would otherwise be computed by the cpu
  // kernels: every kernel of a step is to run on the GPU (test/backend-webgpu.test.ts checks).
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  return backend;
}

/** Throws the errors Dawn reported since the last call: a read must not return values computed on invalid buffers. */
function throwDeviceErrors(): void {
  if (deviceErrors.length === 0) return;
  const errors = deviceErrors.splice(0);
  throw new Error(`WebGPU reported ${errors.length} error${errors.length === 1 ? '' : 's'}: ${errors.slice(0, 3).join('; ')}`);
}
