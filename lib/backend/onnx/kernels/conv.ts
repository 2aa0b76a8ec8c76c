/** Conv2D, FusedConv2D and the input gradient of a convolution, on ORT for NHWC float32. */
import * as tf from '@tensorflow/tfjs';
import { activationNodes } from '../activation';
import type { OnnxBackend } from '../backend';
import { chooseRoute, convGraph, convInputDims, filterShape, type ConvExtras, type ConvGeometry, type ConvRoute } from '../conv-graphs';
import {
  hwioView,
  reorderOIHW,
  reorderOIHWBiBo,
  reorderOIHWBo,
  roundUp,
  transposedFlippedView,
  type FilterView,
} from '../layout';
import type { Feed } from '../runtime';
import { allFloat32, withFallback, type OnnxKernel } from './kernel-utils';

type Shape4 = [number, number, number, number];

/** tfjs convolution info as our geometry; undefined for layouts and sizes we leave to the cpu. */
export function geometryOf(info: tf.backend_util.Conv2DInfo): ConvGeometry | undefined {
  if (info.dataFormat !== 'channelsLast') return undefined;
  const g: ConvGeometry = {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads: [info.padInfo.top, info.padInfo.left, info.padInfo.bottom, info.padInfo.right],
  };
  const sizes = [g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels];
  return sizes.every((d) => d > 0) ? g : undefined;
}

/** A cache key for sessions of this geometry. */
export function geometryKey(g: ConvGeometry): string {
  return [
    g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels,
    g.filterHeight, g.filterWidth, ...g.strides, ...g.dilations, ...g.pads,
  ].join(',');
}

/** The filter in the layout the route wants. */
function layoutFilter(values: Float32Array, view: FilterView, route: ConvRoute, block: number): Float32Array {
  if (route === 'plain') return reorderOIHW(values, view);
  if (route === 'nchwc-blocked') return reorderOIHWBiBo(values, view, block);
  return reorderOIHWBo(values, view, block);
}

/** Runs a convolution graph: x NHWC, filter values seen through `view`, optional bias. */
function runConv(
  backend: OnnxBackend,
  g: ConvGeometry,
  x: tf.TensorInfo,
  filterValues: Float32Array,
  view: FilterView,
  extras: ConvExtras,
  bias?: tf.TensorInfo,
  prelu?: tf.TensorInfo,
): tf.TensorInfo {
  const block = backend.nchwcBlock;
  const route: ConvRoute = block > 0 ? chooseRoute(g.inChannels, block) : 'plain';
  const w = layoutFilter(filterValues, view, route, block);
  const key = `conv|${route}|${geometryKey(g)}|${JSON.stringify(extras)}`;
  const feeds: Feed[] = [
    { name: 'x', data: backend.float32(x), dims: convInputDims(g, route, block, extras) },
    { name: 'w', data: w, dims: filterShape(g, route, block) },
  ];
  if (bias !== undefined) {
    const b = backend.float32(bias);
    const padded = route === 'plain' ? b : new Float32Array(roundUp(g.outChannels, block));
    if (padded !== b) padded.set(b);
    feeds.push({ name: 'b', data: padded, dims: [padded.length] });
  }
  if (prelu !== undefined) feeds.push(backend.feed('prelu', prelu));
  const [y] = backend.runGraph(key, () => convGraph(g, route, block, extras), feeds, [
    { name: 'y', shape: [g.batch, g.outHeight, g.outWidth, g.outChannels] },
  ]);
  return y;
}

export const conv2D: OnnxKernel = withFallback<tf.Conv2DAttrs>(tf.Conv2D, ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs;
  if (!allFloat32(x, filter)) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad,
    attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  const g = geometryOf(info);
  if (g === undefined) return undefined;
  return runConv(backend, g, x, backend.float32(filter), hwioView(filter.shape), {});
});

export const fusedConv2D: OnnxKernel = withFallback<tf.FusedConv2DAttrs>(tf.FusedConv2D, ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs;
  const bias: tf.TensorInfo | undefined = inputs.bias;
  const prelu: tf.TensorInfo | undefined = inputs.preluActivationWeights;
  if (!allFloat32(x, filter, bias, prelu)) return undefined;
  if (activationNodes(attrs.activation, 'in', 'out') === undefined) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad,
    attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  const g = geometryOf(info);
  if (g === undefined) return undefined;
  // The graph adds a per-channel bias; other broadcasts go to the cpu kernel.
  if (bias !== undefined && tf.util.sizeFromShape(bias.shape) !== g.outChannels) return undefined;
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (prelu !== undefined && !tf.util.arraysEqual(tf.backend_util.assertAndGetBroadcastShape(outShape, prelu.shape), outShape)) {
    return undefined;
  }
  const extras: ConvExtras = {
    bias: bias !== undefined,
    activation: attrs.activation,
    leakyreluAlpha: attrs.leakyreluAlpha,
    preluShape: prelu?.shape,
  };
  return runConv(backend, g, x, backend.float32(filter), hwioView(filter.shape), extras, bias, prelu);
});

/**
 * dx of y = conv(x, w): a stride-1 convolution of dy (zeros inserted between its pixels for a
 * strided convolution) with the filter flipped in space and in/out swapped, padded by
 * (k - 1 - pad) so that the output has the input's size.
 */
export const conv2DBackpropInput: OnnxKernel = withFallback<tf.Conv2DBackpropInputAttrs>(
  tf.Conv2DBackpropInput,
  ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    if (!allFloat32(dy, filter)) return undefined;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape, filter.shape as Shape4, attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const fwd = geometryOf(info);
    if (fwd === undefined) return undefined;
    const [sh, sw] = fwd.strides;
    const [top, left] = fwd.pads;
    const dilatedHeight = fwd.outHeight * sh;
    const dilatedWidth = fwd.outWidth * sw;
    const pads: ConvGeometry['pads'] = [
      fwd.filterHeight - 1 - top,
      fwd.filterWidth - 1 - left,
      fwd.inHeight - dilatedHeight + top,
      fwd.inWidth - dilatedWidth + left,
    ];
    // Padding wider than the filter (or an output cut short) has no such form; the cpu handles it.
    if (pads.some((p) => p < 0)) return undefined;
    const g: ConvGeometry = {
      batch: fwd.batch,
      inHeight: fwd.outHeight,
      inWidth: fwd.outWidth,
      inChannels: fwd.outChannels,
      outHeight: fwd.inHeight,
      outWidth: fwd.inWidth,
      outChannels: fwd.inChannels,
      filterHeight: fwd.filterHeight,
      filterWidth: fwd.filterWidth,
      strides: [1, 1],
      dilations: [1, 1],
      pads,
    };
    const extras: ConvExtras = sh > 1 || sw > 1 ? { inputDilation: [sh, sw] } : {};
    return runConv(backend, g, dy, backend.float32(filter), transposedFlippedView(filter.shape), extras);
  },
);

export const convKernels: OnnxKernel[] = [conv2D, fusedConv2D, conv2DBackpropInput];
