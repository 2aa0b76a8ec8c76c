/** Conv2D, FusedConv2D and the input gradient of a convolution, on ORT for NHWC float32. */
import * as tf from '@tensorflow/tfjs';
import { activationNodes } from '../activation';
import type { OnnxBackend } from '../backend';
import { chooseRoute, convGraph, convInputDims, filterShape, geometryKey, sharedInputConvsGraph, type ConvExtras, type ConvGeometry, type ConvRoute } from '../conv-graphs';
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
  const spread = extras.depthToSpace;
  if (spread !== undefined && spreadsHere(backend, g, spread)) {
    const { depthToSpace: _, ...convExtras } = extras;
    const [phases] = backend.runGraph(
      `conv|${route}|${geometryKey(g)}|${JSON.stringify(convExtras)}`, () => convGraph(g, route, block, convExtras), feeds,
      [{ name: 'y', shape: [g.batch, g.outHeight, g.outWidth, g.outChannels] }], true,
    );
    try {
      return spreadPhases(backend, phases, g, spread);
    } finally {
      backend.disposeData(phases.dataId);
    }
  }
  const outShape = extras.depthToSpace
    ? [g.batch, extras.depthToSpace.height, extras.depthToSpace.width, extras.depthToSpace.channels]
    : [g.batch, g.outHeight, g.outWidth, g.outChannels];
  const [y] = backend.runGraph(key, () => convGraph(g, route, block, extras), feeds, [{ name: 'y', shape: outShape }], true);
  return y;
}

type Spread = NonNullable<ConvExtras['depthToSpace']>;

/**
 * Whether the phases of a polyphase input gradient are spread here, by a SIMD pass of row
 * copies (spreadPhases), instead of in the graph by ORT's generic Reshape-Transpose-Reshape (or,
 * for the 1x1 shortcut, a 6-D Pad): whole vectors of channels, the spread image as wide as the
 * phases (a taller one is cropped row by row), and an arena to run in.
 */
function spreadsHere(backend: OnnxBackend, g: ConvGeometry, spread: Spread): boolean {
  return backend.arena !== undefined && spread.channels % 4 === 0 && g.outWidth * spread.blocks === spread.width
    && spread.height <= g.outHeight * spread.blocks;
}

/**
 * The image [N, height, width, C] from the phase convolution's output [N, A, B, s, s, C] (row
 * a * s + ry, column b * s + rx from phase (ry, rx) of pixel (a, b)), or with onlyFirstPhase
 * from [N, A, B, C] with zeros at the other phases.
 */
function spreadPhases(backend: OnnxBackend, phases: tf.TensorInfo, g: ConvGeometry, spread: Spread): tf.TensorInfo {
  const { blocks: s, channels, height, width } = spread;
  const [rows, columns] = [g.outHeight, g.outWidth];
  const src = backend.float32(phases);
  const out = backend.output([g.batch, height, width, channels]);
  const arena = backend.arena;
  if (arena === undefined || !arena.contains(src) || !arena.contains(out)) {
    spreadWithLoops(src, out, g, spread);
    return backend.makeTensorInfo([g.batch, height, width, channels], 'float32', out);
  }
  const pixelBytes = 4 * channels;
  const [srcImage, outImage] = [rows * columns * g.outChannels * 4, height * width * pixelBytes];
  // Where the image is exactly rows * s tall, consecutive images continue each other's rows: one call.
  const whole = height === rows * s;
  const images = whole ? [{ n: 0, rows: g.batch * rows }] : Array.from({ length: g.batch }, (_, n) => ({ n, rows }));
  for (const image of images) {
    const [from, to] = [src.byteOffset + image.n * srcImage, out.byteOffset + image.n * outImage];
    if (spread.onlyFirstPhase) {
      // row s * a holds pixel (a, b) at column s * b, zeros between; the s - 1 rows after it are zeros
      const rowsWithTail = whole ? image.rows : image.rows - 1;
      const call = (first: number, count: number, tailRows: number) => arena.kernels.layout.spreadRuns(
        from + first * columns * pixelBytes, to + first * s * width * pixelBytes, count, columns, pixelBytes, (s - 1) * pixelBytes,
        pixelBytes, columns * pixelBytes, s * width * pixelBytes, tailRows * width * pixelBytes,
      );
      call(0, rowsWithTail, s - 1);
      if (!whole) call(rows - 1, 1, height - (rows - 1) * s - 1);
      continue;
    }
    for (let ry = 0; ry < s; ry++) {
      // phase row ry of pixel row a is image row a * s + ry, which the crop may cut off
      const count = whole ? image.rows : Math.min(rows, Math.ceil((height - ry) / s));
      arena.kernels.layout.spreadRuns(
        from + ry * s * pixelBytes, to + ry * width * pixelBytes, count, columns, s * pixelBytes, 0,
        s * s * pixelBytes, columns * s * s * pixelBytes, s * width * pixelBytes, 0,
      );
    }
  }
  return backend.makeTensorInfo([g.batch, height, width, channels], 'float32', out);
}

/** spreadPhases in plain loops, for arrays outside the arena. */
function spreadWithLoops(src: Float32Array, out: Float32Array, g: ConvGeometry, { blocks: s, channels, height, width, onlyFirstPhase }: Spread): void {
  if (onlyFirstPhase) out.fill(0);
  const phases = onlyFirstPhase ? 1 : s;
  for (let n = 0; n < g.batch; n++) {
    for (let a = 0; a < g.outHeight; a++) {
      for (let b = 0; b < g.outWidth; b++) {
        const pixel = ((n * g.outHeight + a) * g.outWidth + b) * g.outChannels;
        for (let ry = 0; ry < phases; ry++) {
          for (let rx = 0; rx < phases; rx++) {
            const [y, x] = [a * s + ry, b * s + rx];
            if (y >= height || x >= width) continue;
            const from = pixel + (ry * s + rx) * channels;
            out.set(src.subarray(from, from + channels), ((n * height + y) * width + x) * channels);
          }
        }
      }
    }
  }
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
 * A stride-1 convolution over dy [N, Ho, Wo, Co] of the forward convolution `fwd` (the input
 * gradient's routes), with the given filter size, zero padding and output.
 */
function convOverDy(
  fwd: ConvGeometry,
  filter: [height: number, width: number],
  pads: ConvGeometry['pads'],
  out: { height: number; width: number; channels: number },
): ConvGeometry {
  return {
    batch: fwd.batch,
    inHeight: fwd.outHeight,
    inWidth: fwd.outWidth,
    inChannels: fwd.outChannels,
    outHeight: out.height,
    outWidth: out.width,
    outChannels: out.channels,
    filterHeight: filter[0],
    filterWidth: filter[1],
    strides: [1, 1],
    dilations: [1, 1],
    pads,
  };
}

/** Along one axis of a strided convolution: the taps of each output phase, as a small convolution. */
interface PhaseAxis {
  /** filter taps of the phase convolution */
  taps: number;
  /** zero rows before and after dy */
  padBefore: number;
  padAfter: number;
  /** rows of each phase's output (the spread image has `rows * stride`, cropped to the input's) */
  rows: number;
}

/**
 * Input-gradient rows i = s * a + r (phase r) collect dy[a - t] * w[r + pad + s * t] over the t
 * that keep the filter index inside [0, k): a stride-1 convolution of dy whose filter holds, for
 * phase r, tap j = tMax - j of those t. Returns undefined when a phase gets no tap or padding
 * exceeds the filter.
 */
function phaseAxis(stride: number, filterSize: number, padBefore: number, inSize: number, outSize: number): PhaseAxis | undefined {
  let tMin = Infinity;
  let tMax = -Infinity;
  for (let r = 0; r < stride; r++) {
    const [first, last] = [Math.ceil((-r - padBefore) / stride), Math.floor((filterSize - 1 - r - padBefore) / stride)];
    // A phase no tap reaches (a 1x1 stride-2 filter) would make this form compute zeros: the
    // zero-inserted route costs the same there without spreading the result.
    if (first > last) return undefined;
    tMin = Math.min(tMin, first);
    tMax = Math.max(tMax, last);
  }
  if (tMax < 0 || tMin > 0) return undefined;
  const taps = tMax - tMin + 1;
  const rows = Math.ceil(inSize / stride);
  const padAfter = Math.max(0, rows - outSize - tMin);
  return { taps, padBefore: tMax, padAfter, rows: outSize + tMax + padAfter - taps + 1 };
}

/**
 * The phase filter, HWIO [Jy, Jx, Co, s*s*Ci]: output channel (ry * s + rx) * Ci + ci of tap
 * (jy, jx) is w[ry + top + s (tMaxY - jy), rx + left + s (tMaxX - jx), ci, :], or 0 outside w.
 */
function phaseFilter(w: Float32Array, fwd: ConvGeometry, ys: PhaseAxis, xs: PhaseAxis): Float32Array {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = fwd;
  const [sh, sw] = fwd.strides;
  const [top, left] = fwd.pads;
  const phases = sh * sw;
  const out = new Float32Array(ys.taps * xs.taps * co * phases * ci);
  for (let jy = 0; jy < ys.taps; jy++) {
    for (let jx = 0; jx < xs.taps; jx++) {
      for (let ry = 0; ry < sh; ry++) {
        const ky = ry + top + sh * (ys.padBefore - jy);
        if (ky < 0 || ky >= kh) continue;
        for (let rx = 0; rx < sw; rx++) {
          const kx = rx + left + sw * (xs.padBefore - jx);
          if (kx < 0 || kx >= kw) continue;
          for (let i = 0; i < ci; i++) {
            const from = ((ky * kw + kx) * ci + i) * co;
            const channel = (ry * sw + rx) * ci + i;
            for (let o = 0; o < co; o++) out[((jy * xs.taps + jx) * co + o) * phases * ci + channel] = w[from + o];
          }
        }
      }
    }
  }
  return out;
}

/**
 * dx of a strided convolution without zero insertion: one stride-1 convolution of dy computes
 * all s*s output phases as channels, which the graph spreads into the image. For a 3x3 stride-2
 * filter that is 16 taps per dy pixel instead of 36 over the zero-filled dy (and 10 phase by
 * phase, the default where the phases tile the image: see phaseByPhaseInputGradient).
 */
function polyphaseInputGradient(backend: OnnxBackend, fwd: ConvGeometry, dy: tf.TensorInfo, filter: tf.TensorInfo): tf.TensorInfo | undefined {
  const [sh, sw] = fwd.strides;
  const [top, left] = fwd.pads;
  if (sh !== sw || fwd.dilations[0] !== 1 || fwd.dilations[1] !== 1) return undefined;
  const spread = { blocks: sh, channels: fwd.inChannels, height: fwd.inHeight, width: fwd.inWidth };
  if (fwd.filterHeight === 1 && fwd.filterWidth === 1 && top === 0 && left === 0) {
    // Only phase (0, 0) receives gradient: the 1x1 convolution at dy's size, then zeros between.
    const rows = Math.ceil(fwd.inHeight / sh);
    const cols = Math.ceil(fwd.inWidth / sw);
    if (rows < fwd.outHeight || cols < fwd.outWidth) return undefined;
    const g = convOverDy(fwd, [1, 1], [0, 0, rows - fwd.outHeight, cols - fwd.outWidth], { height: rows, width: cols, channels: fwd.inChannels });
    return runConv(backend, g, dy, backend.float32(filter), transposedFlippedView(filter.shape), { depthToSpace: { ...spread, onlyFirstPhase: true } });
  }
  const ys = phaseAxis(sh, fwd.filterHeight, top, fwd.inHeight, fwd.outHeight);
  const xs = phaseAxis(sw, fwd.filterWidth, left, fwd.inWidth, fwd.outWidth);
  if (ys === undefined || xs === undefined) return undefined;
  const g = convOverDy(fwd, [ys.taps, xs.taps], [ys.padBefore, xs.padBefore, ys.padAfter, xs.padAfter], {
    height: ys.rows, width: xs.rows, channels: sh * sw * fwd.inChannels,
  });
  const w = phaseFilter(backend.float32(filter), fwd, ys, xs);
  const extras: ConvExtras = { depthToSpace: spread };
  return runConv(backend, g, dy, w, hwioView([ys.taps, xs.taps, fwd.outChannels, g.outChannels]), extras);
}

/** Along one axis, the dy offsets t in [first, last] that output phase r of a strided convolution's input gradient reads (see phaseAxis). */
function phaseTaps(stride: number, filterSize: number, padBefore: number, r: number): { first: number; last: number } {
  return { first: Math.ceil((-r - padBefore) / stride), last: Math.floor((filterSize - 1 - r - padBefore) / stride) };
}

/**
 * dx of a strided convolution one output phase at a time: phase (ry, rx), the pixels (s a + ry,
 * s b + rx), is a stride-1 convolution of dy with just the taps that reach it (for a 3x3 stride-2
 * filter 1, 2, 2 and 4 taps, the single one run as 2 (see below): 10 in all, where the single
 * convolution of polyphaseInputGradient gives every phase the 4 of the largest), read from w
 * through a FilterView without a copy. Each phase is then scattered into every s-th pixel of dx
 * by a SIMD pass. Only where the phases tile the image exactly (its size s times dy's) and every
 * phase has a tap; undefined elsewhere. `npm run bench:phases` times the two routes.
 */
function phaseByPhaseInputGradient(backend: OnnxBackend, fwd: ConvGeometry, dy: tf.TensorInfo, filter: tf.TensorInfo): tf.TensorInfo | undefined {
  const [s, sw] = fwd.strides;
  const [top, left] = fwd.pads;
  const { batch, inHeight, inWidth, inChannels: ci, outChannels: co, outHeight, outWidth, filterHeight: kh, filterWidth: kw } = fwd;
  if (backend.stridedInputGradient !== 'phase-by-phase' || s !== sw || s < 2 || fwd.dilations[0] !== 1 || fwd.dilations[1] !== 1) return undefined;
  if (inHeight !== outHeight * s || inWidth !== outWidth * s || ci % 4 !== 0) return undefined;
  const phases = Array.from({ length: s }, (_, r) => [phaseTaps(s, kh, top, r), phaseTaps(s, kw, left, r)] as const);
  // dy is padded by `last` before and `-first` after: both must be taps the filter has
  if (phases.some((axes) => axes.some(({ first, last }) => first > last || last < 0 || first > 0))) return undefined;
  const w = backend.float32(filter);
  const shape = [batch, inHeight, inWidth, ci];
  const convs: PhaseConv[] = [];
  for (let ry = 0; ry < s; ry++) {
    for (let rx = 0; rx < s; rx++) {
      const ys = phases[ry][0];
      let xs = phases[rx][1];
      const single = ys.first === ys.last && xs.first === xs.last;
      // ORT runs a 1x1 convolution through its pointwise kernel, which sums in another order than
      // the others: a zero tap after the single one keeps the sums, and so the bits, of the
      // polyphase route (test/kernels.test.ts compares the two).
      if (single) xs = { first: xs.first - 1, last: xs.last };
      const [tapsY, tapsX] = [ys.last - ys.first + 1, xs.last - xs.first + 1];
      const g = convOverDy(fwd, [tapsY, tapsX], [ys.last, xs.last, -ys.first, -xs.first], { height: outHeight, width: outWidth, channels: ci });
      // tap (jy, jx) is w[ry + top + s (last - jy), rx + left + s (last - jx)], in and out swapped
      const offset = ((ry + top + s * ys.last) * kw + rx + left + s * xs.last) * ci * co;
      const [values, view] = single
        ? [singleTapFilter(w, offset, ci, co), hwioView([1, 2, co, ci])]
        : [w, { outChannels: ci, inChannels: co, height: tapsY, width: tapsX, offset, strides: [co, 1, -s * kw * ci * co, -s * ci * co] } as FilterView];
      convs.push({ g, values, view, ry, rx });
    }
  }
  const out = backend.output(shape);
  const block = backend.nchwcBlock;
  if (block > 0 && chooseRoute(co, block) === 'nchwc-blocked' && backend.phasesInOneGraph) {
    // One graph: dy is reordered into blocks once for all the phases (`npm run bench:phase-graph`).
    const geometries = convs.map((c) => c.g);
    const feeds: Feed[] = [
      { name: 'x', data: backend.float32(dy), dims: convInputDims(geometries[0], 'nchwc-blocked', block) },
      ...convs.map((c, i) => ({ name: `w${i}`, data: layoutFilter(c.values, c.view, 'nchwc-blocked', block), dims: filterShape(c.g, 'nchwc-blocked', block) })),
    ];
    const phaseOutputs = backend.runGraph(
      `phase-convs|${block}|${geometries.map(geometryKey).join('|')}`, () => sharedInputConvsGraph(geometries, block), feeds,
      convs.map((_, i) => ({ name: `y${i}`, shape: [batch, outHeight, outWidth, ci] })), true,
    );
    try {
      convs.forEach((c, i) => scatterPhase(backend, backend.float32(phaseOutputs[i]), out, fwd, c.ry, c.rx));
    } finally {
      for (const phase of phaseOutputs) backend.disposeData(phase.dataId);
    }
    return backend.makeTensorInfo(shape, 'float32', out);
  }
  for (const { g, values, view, ry, rx } of convs) {
    const phase = runConv(backend, g, dy, values, view, {});
    try {
      scatterPhase(backend, backend.float32(phase), out, fwd, ry, rx);
    } finally {
      backend.disposeData(phase.dataId);
    }
  }
  return backend.makeTensorInfo(shape, 'float32', out);
}

/** One output phase (ry, rx) of a strided convolution's input gradient: a stride-1 convolution of dy. */
interface PhaseConv {
  g: ConvGeometry;
  values: Float32Array;
  view: FilterView;
  ry: number;
  rx: number;
}

/** HWIO [1, 2, Co, Ci]: tap 0 the forward filter's tap at `offset` with in and out swapped, tap 1 zeros. */
function singleTapFilter(w: Float32Array, offset: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(2 * co * ci);
  for (let i = 0; i < ci; i++) {
    for (let o = 0; o < co; o++) out[o * ci + i] = w[offset + i * co + o];
  }
  return out;
}

/** Writes phase (ry, rx) [N, Ho, Wo, Ci] into pixels (s a + ry, s b + rx) of dx [N, s Ho, s Wo, Ci]. */
function scatterPhase(backend: OnnxBackend, phase: Float32Array, out: Float32Array, fwd: ConvGeometry, ry: number, rx: number): void {
  const s = fwd.strides[0];
  const { inWidth, inChannels: ci, outHeight, outWidth } = fwd;
  const rows = fwd.batch * outHeight;
  const arena = backend.arena;
  if (arena !== undefined && arena.contains(phase) && arena.contains(out)) {
    // phase row r (image n, row a) is dx row s r + ry, as dx has s times dy's rows
    arena.kernels.layout.scatterRuns(
      phase.byteOffset, out.byteOffset + 4 * (ry * inWidth + rx) * ci, rows, outWidth, 4 * ci,
      4 * ci, 4 * s * ci, 4 * outWidth * ci, 4 * s * inWidth * ci,
    );
    return;
  }
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < outWidth; b++) {
      const from = (r * outWidth + b) * ci;
      out.set(phase.subarray(from, from + ci), ((s * r + ry) * inWidth + s * b + rx) * ci);
    }
  }
}

/**
 * dx of y = conv(x, w). Stride 1: a convolution of dy with the filter flipped in space and in/out
 * swapped, padded by (k - 1 - pad) so that the output has the input's size. Strided: one phase
 * at a time, else the polyphase form (both above; the same bits), else that convolution over dy
 * with zeros inserted between its pixels.
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
    if (sh > 1 || sw > 1) {
      const phased = phaseByPhaseInputGradient(backend, fwd, dy, filter);
      if (phased !== undefined) return phased;
      const polyphase = polyphaseInputGradient(backend, fwd, dy, filter);
      if (polyphase !== undefined) return polyphase;
    }
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
    const g = convOverDy(fwd, [fwd.filterHeight, fwd.filterWidth], pads, { height: fwd.inHeight, width: fwd.inWidth, channels: fwd.inChannels });
    const extras: ConvExtras = sh > 1 || sw > 1 ? { inputDilation: [sh, sw] } : {};
    return runConv(backend, g, dy, backend.float32(filter), transposedFlippedView(filter.shape), extras);
  },
);

export const convKernels: OnnxKernel[] = [conv2D, fusedConv2D, conv2DBackpropInput];
