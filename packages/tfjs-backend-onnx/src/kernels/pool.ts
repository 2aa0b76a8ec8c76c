/**
 * MaxPool and its gradient on ORT (NHWC float32). The gradient recomputes the pooling with ORT's
 * argmax indices (first maximum in row-major window order, as the cpu kernel picks) and adds each
 * dy into the input position that won.
 */
import * as tf from '@tensorflow/tfjs';
import { NCHWC_DOMAIN } from '../layout';
import type { GraphSpec, NodeSpec } from '../proto';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Pooling info when ONNX's output-size rule gives the same sizes as tfjs's; else undefined. */
function poolInfo(shape: number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo | undefined {
  const info = tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const onnxHeight = Math.floor((info.inHeight + top + bottom - info.filterHeight) / info.strideHeight) + 1;
  const onnxWidth = Math.floor((info.inWidth + left + right - info.filterWidth) / info.strideWidth) + 1;
  const fits = onnxHeight === info.outHeight && onnxWidth === info.outWidth && info.outHeight > 0 && info.outWidth > 0;
  return fits ? info : undefined;
}

function poolAttrs(info: tf.backend_util.Conv2DInfo) {
  const { top, bottom, left, right } = info.padInfo;
  return {
    kernel_shape: [info.filterHeight, info.filterWidth],
    strides: [info.strideHeight, info.strideWidth],
    pads: [top, left, bottom, right],
  };
}

function infoKey(info: tf.backend_util.Conv2DInfo): string {
  return `${info.inShape}|${info.filterHeight},${info.filterWidth}|${info.strideHeight},${info.strideWidth}|${Object.values(info.padInfo)}`;
}

/** x [N, H, W, C] -> y [N, Ho, Wo, C]; NCHWc when C is a multiple of 4, else via NCHW. */
function maxPoolGraph(info: tf.backend_util.Conv2DInfo, block: number): GraphSpec {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const nodes: NodeSpec[] =
    block > 0 && inChannels % 4 === 0
      ? [
          { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: ['x'], outputs: ['x_blocked'], attrs: { channels_last: 1 } },
          { op: 'MaxPool', domain: NCHWC_DOMAIN, inputs: ['x_blocked'], outputs: ['y_blocked'], attrs: poolAttrs(info) },
          { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: ['y_blocked'], outputs: ['y'], attrs: { channels_last: 1, channels: inChannels } },
        ]
      : [
          { op: 'Transpose', inputs: ['x'], outputs: ['x_nchw'], attrs: { perm: [0, 3, 1, 2] } },
          { op: 'MaxPool', inputs: ['x_nchw'], outputs: ['y_nchw'], attrs: poolAttrs(info) },
          { op: 'Transpose', inputs: ['y_nchw'], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } },
        ];
  return {
    nodes,
    inputs: [{ name: 'x', type: 'float', shape: [batchSize, inHeight, inWidth, inChannels] }],
    outputs: [{ name: 'y', type: 'float', shape: [batchSize, outHeight, outWidth, inChannels] }],
  };
}

/** x [N, H, W, C], dy [N, Ho, Wo, C] -> dx [N, H, W, C]. */
function maxPoolGradGraph(info: tf.backend_util.Conv2DInfo): GraphSpec {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const inSize = batchSize * inHeight * inWidth * inChannels;
  const outSize = batchSize * outHeight * outWidth * inChannels;
  return {
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['x_nchw'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'MaxPool', inputs: ['x_nchw'], outputs: ['y_nchw', 'argmax'], attrs: poolAttrs(info) },
      { op: 'Reshape', inputs: ['argmax', 'out_flat'], outputs: ['argmax_flat'] }, // indices into N*C*H*W
      { op: 'Transpose', inputs: ['dy'], outputs: ['dy_nchw'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Reshape', inputs: ['dy_nchw', 'out_flat'], outputs: ['dy_flat'] },
      { op: 'ConstantOfShape', inputs: ['in_flat'], outputs: ['zeros'], attrs: {} },
      { op: 'ScatterElements', inputs: ['zeros', 'argmax_flat', 'dy_flat'], outputs: ['dx_flat'], attrs: { axis: 0, reduction: 'add' } },
      { op: 'Reshape', inputs: ['dx_flat', 'in_nchw'], outputs: ['dx_nchw'] },
      { op: 'Transpose', inputs: ['dx_nchw'], outputs: ['dx'], attrs: { perm: [0, 2, 3, 1] } },
    ],
    consts: [
      { name: 'out_flat', type: 'int64', shape: [1], values: [outSize] },
      { name: 'in_flat', type: 'int64', shape: [1], values: [inSize] },
      { name: 'in_nchw', type: 'int64', shape: [4], values: [batchSize, inChannels, inHeight, inWidth] },
    ],
    inputs: [
      { name: 'x', type: 'float', shape: [batchSize, inHeight, inWidth, inChannels] },
      { name: 'dy', type: 'float', shape: [batchSize, outHeight, outWidth, inChannels] },
    ],
    outputs: [{ name: 'dx', type: 'float', shape: [batchSize, inHeight, inWidth, inChannels] }],
  };
}

export const maxPool: OnnxKernel = withFallback<PoolAttrs>(tf.MaxPool, ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  if (!allFloat32(x)) return undefined;
  const info = poolInfo(x.shape, attrs);
  if (info === undefined) return undefined;
  const block = backend.nchwcBlock;
  const [y] = backend.runGraph(`maxpool|${infoKey(info)}`, () => maxPoolGraph(info, block), [backend.feed('x', x)], [
    { name: 'y', shape: [...info.outShape] },
  ]);
  return y;
});

export const maxPoolGrad: OnnxKernel = withFallback<PoolAttrs>(tf.MaxPoolGrad, ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs;
  if (!allFloat32(dy, input)) return undefined;
  const info = poolInfo(input.shape, attrs);
  if (info === undefined) return undefined;
  const [dx] = backend.runGraph(
    `maxpool-grad|${infoKey(info)}`,
    () => maxPoolGradGraph(info),
    [backend.feed('x', input), backend.feed('dy', dy)],
    [{ name: 'dx', shape: [...input.shape] }],
  );
  return dx;
});

export const poolKernels: OnnxKernel[] = [maxPool, maxPoolGrad];
