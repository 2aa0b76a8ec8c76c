/**
 * The members of tfjs-backend-webgpu 4.22's WebGPUBackend that sync-read.ts and buffer-limits.ts
 * use. They are not public API: the test of this folder fails when a tfjs upgrade moves them.
 */
import type * as tf from '@tensorflow/tfjs';
import type { GpuBuffer, GpuDevice } from './gpu-types';

export interface TensorData {
  values: tf.backend_util.BackendValues | null;
  dtype: tf.DataType;
  resource: GpuBuffer | object | null;
}

export interface BufferManager {
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GpuBuffer;
  releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void;
}

export interface CommandEncoder {
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
}

export interface WebgpuBackendInternals extends tf.KernelBackend {
  device: GpuDevice;
  tensorMap: { get(dataId: object): TensorData; has(dataId: object): boolean };
  bufferManager: BufferManager;
  commandEncoder: CommandEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
  shouldExecuteOnCPU(inputs: tf.TensorInfo[], sizeThreshold?: number): boolean;
}

/** GPUBufferUsage and GPUMapMode bits (WebGPU spec constants). */
export const BufferUsage = { MAP_READ: 0x0001, COPY_DST: 0x0008, STORAGE: 0x0080 } as const;
export const MapMode = { READ: 0x0001 } as const;
