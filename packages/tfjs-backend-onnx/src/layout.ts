/**
 * Filter layouts for ONNX Runtime's NCHWc convolution (domain com.microsoft.nchwc), its fastest
 * CPU convolution. Activations there are blocked as [N, C/B, H, W, B] with B the SIMD width in
 * floats (16 with AVX-512, 8 with AVX2); filters are blocked to match. ORT normally reorders
 * constant filters itself, but our filters change every step, so they are reordered here (they are
 * small). The layouts follow MlasReorderFilterOIHWBiBo / MlasReorderFilterOIHWBo.
 */
import type { OrtRuntime } from './runtime';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** Rounds `channels` up to a multiple of the block size. */
export function roundUp(channels: number, block: number): number {
  return Math.ceil(channels / block) * block;
}

/**
 * The NCHWc block size of this CPU, read from the output shape of a ReorderInput of 4 channels
 * (it pads the channels up to one block).
 */
export function detectBlockSize(runtime: OrtRuntime): number {
  const [out] = runtime.run(
    'nchwc-block-probe',
    () => ({
      nodes: [{ op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: ['x'], outputs: ['y'], attrs: { channels_last: 0 } }],
      inputs: [{ name: 'x', type: 'float', shape: [1, 4, 1, 1] }],
      // The channel count is what is asked: left open, so ORT allocates the output at its real size.
      outputs: [{ name: 'y', type: 'float', shape: [1, 'blocked', 1, 1] }],
    }),
    [{ name: 'x', data: new Float32Array(4), dims: [1, 4, 1, 1] }],
    ['y'],
  );
  return out.length;
}

/**
 * Where filter element (o, i, y, x) of a logical OIHW filter sits in the source array: an offset
 * and a stride per axis. Negative strides flip an axis.
 */
export interface FilterView {
  outChannels: number;
  inChannels: number;
  height: number;
  width: number;
  offset: number;
  strides: [o: number, i: number, y: number, x: number];
}

/** A tfjs filter [kh, kw, in, out] seen as OIHW (the forward convolution). */
export function hwioView(shape: readonly number[]): FilterView {
  const [kh, kw, ci, co] = shape;
  return { outChannels: co, inChannels: ci, height: kh, width: kw, offset: 0, strides: [1, co, kw * ci * co, ci * co] };
}

/**
 * A tfjs filter [kh, kw, in, out] seen as the OIHW filter of the convolution that computes the
 * input gradient: in and out swapped and both spatial axes flipped.
 */
export function transposedFlippedView(shape: readonly number[]): FilterView {
  const [kh, kw, ci, co] = shape;
  const offset = ((kh - 1) * kw + (kw - 1)) * ci * co;
  return { outChannels: ci, inChannels: co, height: kh, width: kw, offset, strides: [co, 1, -kw * ci * co, -ci * co] };
}

/**
 * Reorders a filter to OIHWBiBo ([O/B, I/B, H, W, Bi, Bo], both channel counts zero-padded to
 * blocks): the layout for inputs with at least one full block of channels.
 */
export function reorderOIHWBiBo(src: Float32Array, view: FilterView, block: number): Float32Array {
  const { outChannels, inChannels, height, width, offset } = view;
  const [so, si, sy, sx] = view.strides;
  const outBlocks = Math.ceil(outChannels / block);
  const inBlocks = Math.ceil(inChannels / block);
  const dst = new Float32Array(outBlocks * inBlocks * height * width * block * block);
  let d = 0;
  for (let ob = 0; ob < outBlocks; ob++) {
    for (let ib = 0; ib < inBlocks; ib++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let bi = 0; bi < block; bi++) {
            const i = ib * block + bi;
            if (i >= inChannels) {
              d += block;
              continue;
            }
            const base = offset + i * si + y * sy + x * sx;
            const oEnd = Math.min(block, outChannels - ob * block);
            for (let bo = 0; bo < oEnd; bo++) dst[d + bo] = src[base + (ob * block + bo) * so];
            d += block;
          }
        }
      }
    }
  }
  return dst;
}

/**
 * Reorders a filter to OIHWBo ([O/B, I, H, W, Bo], output channels zero-padded): the layout for
 * plain NCHW inputs with fewer channels than a block (the RGB stem).
 */
export function reorderOIHWBo(src: Float32Array, view: FilterView, block: number): Float32Array {
  const { outChannels, inChannels, height, width, offset } = view;
  const [so, si, sy, sx] = view.strides;
  const outBlocks = Math.ceil(outChannels / block);
  const dst = new Float32Array(outBlocks * inChannels * height * width * block);
  let d = 0;
  for (let ob = 0; ob < outBlocks; ob++) {
    const oEnd = Math.min(block, outChannels - ob * block);
    for (let i = 0; i < inChannels; i++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const base = offset + i * si + y * sy + x * sx;
          for (let bo = 0; bo < oEnd; bo++) dst[d + bo] = src[base + (ob * block + bo) * so];
          d += block;
        }
      }
    }
  }
  return dst;
}

/** Copies a filter to plain OIHW (for ONNX's standard Conv, used when NCHWc cannot be). */
export function reorderOIHW(src: Float32Array, view: FilterView): Float32Array {
  const { outChannels, inChannels, height, width, offset } = view;
  const [so, si, sy, sx] = view.strides;
  const dst = new Float32Array(outChannels * inChannels * height * width);
  let d = 0;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) dst[d++] = src[offset + o * so + i * si + y * sy + x * sx];
      }
    }
  }
  return dst;
}
