/**
 * The WebGPU adapter: what it is (and whether it is a software rasteriser), and the device
 * requested from it with its own buffer limits.
 */
import type { GpuAdapter, GpuAdapterInfo, GpuDevice, GpuLimits } from './gpu-types';

/** What `cifar-ssl info` and the bench report say about the adapter. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** a CPU implementation (llvmpipe/lavapipe, SwiftShader, WARP): never chosen automatically */
  software: boolean;
  /** the limits the device was requested with (bytes) */
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** Names of the CPU implementations of Vulkan, Metal and D3D12 that Dawn can find. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|microsoft basic render|warp/i;

/** Whether the adapter is a CPU implementation: flagged as the fallback adapter, or known by name. */
export function isSoftwareAdapter(info: GpuAdapterInfo): boolean {
  return info.isFallbackAdapter === true || info.architecture === 'software' ||
    SOFTWARE_NAMES.test(`${info.description} ${info.device}`);
}

export function describeAdapter(adapter: GpuAdapter): AdapterReport {
  const { vendor, architecture, device, description } = adapter.info;
  return {
    vendor, architecture, device, description,
    software: isSoftwareAdapter(adapter.info),
    limits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  };
}

/** One line naming the adapter, e.g. "nvidia ampere (NVIDIA GeForce RTX 3080), hardware". */
export function adapterName(report: AdapterReport): string {
  const what = [report.vendor, report.architecture].filter((s) => s !== '').join(' ') || 'unknown vendor';
  const detail = report.description || report.device;
  return `${what}${detail ? ` (${detail})` : ''}, ${report.software ? 'software (runs on the CPU)' : 'hardware'}`;
}

/** Bytes as MiB or GiB, for messages. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Requests the device with the adapter's own limits. WebGPU's defaults cap a storage binding at
 * 128 MiB, exactly one 512x64x32x32 float32 activation of the `paper` preset, so the larger
 * tensors of a ResNet-18 step would not bind; the workgroup limits are the ones tfjs's kernels use.
 */
export async function requestDevice(adapter: GpuAdapter): Promise<GpuDevice> {
  const limits: GpuLimits = adapter.limits;
  const requiredLimits: Record<keyof GpuLimits, number> = {
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
  };
  // timestamp queries let tf.profile time kernels on the GPU
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}
