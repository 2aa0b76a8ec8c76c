/**
 * The 'onnx' tfjs backend: the cpu backend (tensors stay JS typed arrays, every kernel falls back
 * to the cpu one) whose heavy kernels run as small cached ONNX Runtime graphs.
 */
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { GraphSpec } from './proto';
import type { Feed, OrtRuntime } from './runtime';

export class OnnxBackend extends MathBackendCPU {
  constructor(
    readonly ort: OrtRuntime,
    /** NCHWc block size of this CPU (0 when the NCHWc kernels are unavailable) */
    readonly nchwcBlock: number,
  ) {
    super();
    // The cpu backend prints a "use tfjs-node" hint on first use; this backend is the answer to it.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The float32 values of a tensor held by this backend. */
  float32(t: tf.TensorInfo): Float32Array {
    return this.data.get(t.dataId).values as Float32Array;
  }

  /** Runs a cached graph on float32 tensors and wraps its outputs as tensors of the given shapes. */
  runGraph(
    key: string,
    build: () => GraphSpec,
    feeds: readonly Feed[],
    outputs: ReadonlyArray<{ name: string; shape: number[] }>,
  ): tf.TensorInfo[] {
    const results = this.ort.run(key, build, feeds, outputs.map((o) => o.name));
    return outputs.map((o, i) => this.makeTensorInfo(o.shape, 'float32', results[i] as Float32Array));
  }

  /** Feed for a tensor of this backend. */
  feed(name: string, t: tf.TensorInfo): Feed {
    return { name, data: this.float32(t), dims: t.shape };
  }

  override dispose(): void {
    this.ort.dispose();
    super.dispose();
  }
}
