/**
 * A tensor too large for the device must fail where it is made, with the limit named. Unchecked,
 * WebGPU reports an oversized buffer or binding as an asynchronous validation error and the
 * kernels run on an invalid buffer: wrong numbers, or a lost device, far from the cause.
 */
import { UserError } from '../../util/errors';
import { formatBytes } from './adapter';
import { BufferUsage, type WebgpuBackendInternals } from './internals';
import type { GpuLimits } from './gpu-types';

/** A tensor over the device's buffer limits; the command line prints the message alone. */
export class DeviceLimitError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'DeviceLimitError';
  }
}

/** Why a buffer of `bytes` with `usage` does not fit `limits`, or null when it fits. */
export function bufferLimitError(bytes: number, usage: number, limits: Pick<GpuLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>): string | null {
  const tooBig = (limit: number, name: string) =>
    `a tensor of ${formatBytes(bytes)} (${bytes} bytes) exceeds this WebGPU device's ${name} of ${formatBytes(limit)} (${limit} bytes); ` +
    'use a smaller batch or a narrower encoder, or a GPU with a larger limit (`cifar-ssl info` shows the limits)';
  if (bytes > limits.maxBufferSize) return tooBig(limits.maxBufferSize, 'maxBufferSize');
  // tfjs binds every tensor's whole buffer to its kernels as a storage buffer
  if ((usage & BufferUsage.STORAGE) !== 0 && bytes > limits.maxStorageBufferBindingSize) {
    return tooBig(limits.maxStorageBufferBindingSize, 'maxStorageBufferBindingSize');
  }
  return null;
}

/** Makes every buffer the backend allocates pass bufferLimitError first. */
export function installBufferLimits(backend: WebgpuBackendInternals): void {
  const manager = backend.bufferManager;
  const acquire = manager.acquireBuffer.bind(manager);
  const limits = backend.device.limits;
  manager.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    const error = bufferLimitError(size, usage, limits);
    if (error !== null) throw new DeviceLimitError(error);
    return acquire(size, usage, mappedAtCreation, reuse);
  };
}
