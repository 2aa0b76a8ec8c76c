/**
 * dataSync() on webgpu in Node. tfjs-backend-webgpu reads synchronously through an
 * OffscreenCanvas, which only browsers have; the project reads losses, features and weights with
 * dataSync() on every backend. Here a read copies the tensor's buffer to a staging buffer, maps
 * it, and waits by running Dawn's event processing itself (dawn.ts) instead of awaiting.
 */
import * as tf from '@tensorflow/tfjs';
import { processDawnEventsUntil } from './dawn';
import { BufferUsage, MapMode, type WebgpuBackendInternals } from './internals';
import type { GpuBuffer } from './gpu-types';

/** Replaces the backend's readSync with one that works in Node. */
export function installSyncRead(backend: WebgpuBackendInternals, checkErrors: () => void): void {
  const browserReadSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object): tf.backend_util.BackendValues => {
    const data = backend.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') return browserReadSync(dataId);
    if (data.resource === null) throw new Error('webgpu readSync: the tensor has neither values nor a GPU buffer');
    const source = data.resource as GpuBuffer;
    const staging = backend.bufferManager.acquireBuffer(source.size, BufferUsage.COPY_DST | BufferUsage.MAP_READ);
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.commandEncoder?.copyBufferToBuffer(source, 0, staging, 0, source.size);
    backend.submitQueue();
    let failure: unknown;
    staging.mapAsync(MapMode.READ).catch((error: unknown) => { failure = error; });
    processDawnEventsUntil(() => staging.mapState === 'mapped' || failure !== undefined, 'webgpu readSync');
    checkErrors();
    if (failure !== undefined) throw new Error(`webgpu readSync: mapping the staging buffer failed: ${String(failure)}`);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    backend.bufferManager.releaseBuffer(staging);
    return backend.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
  };
}
