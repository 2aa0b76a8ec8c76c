/**
 * ONNX graphs for 2-D convolutions on NHWC tensors (the tfjs layout). Three routes, fastest
 * first: NCHWc with a blocked input (ReorderInput reads NHWC directly), NCHWc with a plain NCHW
 * input (fewer channels than a block, e.g. RGB), and ONNX's standard Conv between transposes.
 * The filter gradient is a sum of per-tap matrix products, which needs no layout change at all.
 */
import type * as tf from '@tensorflow/tfjs';
import { activationNodes } from './activation';
import { NCHWC_DOMAIN, roundUp } from './layout';
import type { ConstSpec, GraphSpec, NodeSpec, ValueSpec } from './proto';

/** Geometry of one convolution, tfjs conventions (NHWC), explicit padding. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  dilations: [number, number];
  /** zero padding, pixels: [top, left, bottom, right] */
  pads: [number, number, number, number];
}

/** A cache key for sessions of this geometry. */
export function geometryKey(g: ConvGeometry): string {
  return [
    g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels,
    g.filterHeight, g.filterWidth, ...g.strides, ...g.dilations, ...g.pads,
  ].join(',');
}

/** How the input reaches the convolution, which also fixes the filter layout. */
export type ConvRoute = 'nchwc-blocked' | 'nchwc-nchw' | 'plain';

/** Chooses the route for `inChannels` input channels and NCHWc block size `block`. */
export function chooseRoute(inChannels: number, block: number): ConvRoute {
  if (inChannels < block) return 'nchwc-nchw';
  // ReorderInput pads channels up to a block but handles only multiples of 4.
  if (inChannels % 4 === 0) return 'nchwc-blocked';
  return 'plain';
}

/** Extra work around the convolution. */
export interface ConvExtras {
  /** zeros inserted between input pixels (the input gradient of a strided convolution) */
  inputDilation?: [number, number];
  /** a bias input 'b' (length outChannels rounded up to a block on the NCHWc routes) */
  bias?: boolean;
  /** activation of the output (default linear) */
  activation?: tf.fused.Activation;
  leakyreluAlpha?: number;
  /** shape of the PReLU slopes, input 'prelu' (activation 'prelu') */
  preluShape?: number[];
  /**
   * The convolution's outChannels are blocks x blocks phases of `channels` each (phase-major), or
   * with `onlyFirstPhase` just phase (0, 0) with zeros in the others, to be spread into a
   * blocks-times larger image and cropped to height x width: y [N, height, width, channels] (the
   * polyphase input gradient of a strided convolution).
   */
  depthToSpace?: { blocks: number; channels: number; height: number; width: number; onlyFirstPhase?: boolean };
}

/** The filter shape the graph input 'w' must have on `route`. */
export function filterShape(g: ConvGeometry, route: ConvRoute, block: number): number[] {
  const { inChannels, outChannels, filterHeight, filterWidth } = g;
  if (route === 'plain') return [outChannels, inChannels, filterHeight, filterWidth];
  const inDim = route === 'nchwc-blocked' ? roundUp(inChannels, block) : inChannels;
  return [roundUp(outChannels, block), inDim, filterHeight, filterWidth];
}

/**
 * With exactly one block of channels, NHWC [N, H, W, B] and NCHWc [N, 1, H, W, B] are the same
 * bytes, so the reorders are skipped and the graph declares x (or y) in its NCHWc shape.
 */
function blockedDirectly(route: ConvRoute, channels: number, block: number): boolean {
  return route === 'nchwc-blocked' && channels === block;
}

function dilated(extras: ConvExtras): boolean {
  return extras.inputDilation !== undefined && (extras.inputDilation[0] > 1 || extras.inputDilation[1] > 1);
}

/** The dims to feed as x: NHWC, or NCHWc when the input needs no reorder. */
export function convInputDims(g: ConvGeometry, route: ConvRoute, block: number, extras: ConvExtras = {}): number[] {
  const { batch, inHeight, inWidth, inChannels } = g;
  return blockedDirectly(route, inChannels, block) && !dilated(extras)
    ? [batch, inChannels, inHeight, inWidth]
    : [batch, inHeight, inWidth, inChannels];
}

/**
 * Nodes that insert s - 1 zeros after every row and column of NHWC `input` [N, H, W, C]:
 * [N, H, 1, W, 1, C] -> pad -> [N, H, sh, W, sw, C] -> `output` of dims `outDims` (the same bytes
 * as [N, H*sh, W*sw, C]). Const names start with `prefix`.
 */
function zeroInsertion(prefix: string, input: string, output: string, [n, h, w, c]: number[], [sh, sw]: [number, number], outDims: number[]) {
  const consts: ConstSpec[] = [
    { name: `${prefix}_shape6`, type: 'int64', shape: [6], values: [n, h, 1, w, 1, c] },
    { name: `${prefix}_pads`, type: 'int64', shape: [12], values: [0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1, 0] },
    { name: `${prefix}_shape4`, type: 'int64', shape: [4], values: outDims },
  ];
  const nodes: NodeSpec[] = [
    { op: 'Reshape', inputs: [input, `${prefix}_shape6`], outputs: [`${prefix}6`] },
    { op: 'Pad', inputs: [`${prefix}6`, `${prefix}_pads`], outputs: [`${prefix}_padded`] },
    { op: 'Reshape', inputs: [`${prefix}_padded`, `${prefix}_shape4`], outputs: [output] },
  ];
  return { nodes, consts };
}

/**
 * Whether the NCHWc convolution writes y itself, with no ReorderOutput: exactly one block of
 * output channels, and nothing (another activation, a spread) after it.
 */
function directOutput(g: ConvGeometry, route: ConvRoute, block: number, extras: ConvExtras): boolean {
  const activation = extras.activation ?? 'linear';
  const endsAtConv = activation === 'linear' || (route !== 'plain' && activation === 'relu');
  return blockedDirectly(route, g.outChannels, block) && endsAtConv && extras.depthToSpace === undefined;
}

/**
 * Graph: x [N, H, W, Ci] (NHWC, or see convInputDims), w (layout of `route`), optional b ->
 * y [N, Ho, Wo, Co] (NHWC bytes). With `inputDilation` [sh, sw], H and W are the undilated sizes;
 * the convolution sees H*sh rows.
 */
export function convGraph(g: ConvGeometry, route: ConvRoute, block: number, extras: ConvExtras = {}): GraphSpec {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = g;
  const nodes: NodeSpec[] = [];
  const consts: ConstSpec[] = [];
  const directIn = blockedDirectly(route, inChannels, block);
  let x = 'x';

  if (dilated(extras)) {
    const factors = extras.inputDilation ?? [1, 1];
    const [height, width] = [inHeight * factors[0], inWidth * factors[1]];
    const dims = directIn ? [batch, inChannels, height, width] : [batch, height, width, inChannels];
    const dilation = zeroInsertion('dil', x, 'dilated', [batch, inHeight, inWidth, inChannels], factors, dims);
    nodes.push(...dilation.nodes);
    consts.push(...dilation.consts);
    x = 'dilated';
  }

  const attrs = {
    kernel_shape: [g.filterHeight, g.filterWidth],
    strides: g.strides,
    dilations: g.dilations,
    pads: g.pads,
  };
  const convInputs = (input: string) => (extras.bias ? [input, 'w', 'b'] : [input, 'w']);
  const activation = extras.activation ?? 'linear';
  // The NCHWc kernel applies ReLU itself; other activations follow as ONNX nodes on NHWC.
  const fusedRelu = route !== 'plain' && activation === 'relu';
  const spread = extras.depthToSpace;
  const convOut = spread ? 'y_phases' : 'y';
  const y = activation === 'linear' || fusedRelu ? convOut : 'y_linear';
  const directOut = directOutput(g, route, block, extras);

  if (route === 'plain') {
    nodes.push(
      { op: 'Transpose', inputs: [x], outputs: ['x_nchw'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Conv', inputs: convInputs('x_nchw'), outputs: ['y_nchw'], attrs },
      { op: 'Transpose', inputs: ['y_nchw'], outputs: [y], attrs: { perm: [0, 2, 3, 1] } },
    );
  } else {
    if (route === 'nchwc-blocked') {
      if (!directIn) {
        nodes.push({ op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [x], outputs: ['x_blocked'], attrs: { channels_last: 1 } });
        x = 'x_blocked';
      }
    } else {
      nodes.push({ op: 'Transpose', inputs: [x], outputs: ['x_nchw'], attrs: { perm: [0, 3, 1, 2] } });
      x = 'x_nchw';
    }
    const convAttrs = fusedRelu ? { ...attrs, activation: 'Relu' } : attrs;
    nodes.push({ op: 'Conv', domain: NCHWC_DOMAIN, inputs: convInputs(x), outputs: [directOut ? y : 'y_blocked'], attrs: convAttrs });
    if (!directOut) {
      nodes.push({ op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: ['y_blocked'], outputs: [y], attrs: { channels_last: 1, channels: outChannels } });
    }
  }
  if (y !== convOut) {
    const act = activationNodes(activation, y, convOut, extras.leakyreluAlpha);
    if (act === undefined) throw new Error(`unsupported activation ${activation}`);
    nodes.push(...act.nodes);
    consts.push(...act.consts);
  }
  if (spread) {
    const { blocks, channels, height, width } = spread;
    // ... = [N, A*s, B*s, C], then crop
    const [tallHeight, wideWidth] = [outHeight * blocks, outWidth * blocks];
    const cropped = tallHeight !== height || wideWidth !== width;
    const spreadDims = [batch, tallHeight, wideWidth, channels];
    const spreadOut = cropped ? 'spread' : 'y';
    if (spread.onlyFirstPhase) {
      // phase (0, 0) only: zeros where the other phases go
      const insertion = zeroInsertion('phase', convOut, spreadOut, [batch, outHeight, outWidth, channels], [blocks, blocks], spreadDims);
      nodes.push(...insertion.nodes);
      consts.push(...insertion.consts);
    } else {
      // [N, A, B, s*s*C] = [N, A, B, s, s, C] -> [N, A, s, B, s, C]
      consts.push(
        { name: 'phases_shape6', type: 'int64', shape: [6], values: [batch, outHeight, outWidth, blocks, blocks, channels] },
        { name: 'spread_shape4', type: 'int64', shape: [4], values: spreadDims },
      );
      nodes.push(
        { op: 'Reshape', inputs: [convOut, 'phases_shape6'], outputs: ['phases6'] },
        { op: 'Transpose', inputs: ['phases6'], outputs: ['spread6'], attrs: { perm: [0, 1, 3, 2, 4, 5] } },
        { op: 'Reshape', inputs: ['spread6', 'spread_shape4'], outputs: [spreadOut] },
      );
    }
    if (cropped) {
      consts.push(
        { name: 'crop_starts', type: 'int64', shape: [2], values: [0, 0] },
        { name: 'crop_ends', type: 'int64', shape: [2], values: [height, width] },
        { name: 'crop_axes', type: 'int64', shape: [2], values: [1, 2] },
      );
      nodes.push({ op: 'Slice', inputs: ['spread', 'crop_starts', 'crop_ends', 'crop_axes'], outputs: ['y'] });
    }
  }

  const inputs: ValueSpec[] = [
    { name: 'x', type: 'float', shape: convInputDims(g, route, block, extras) },
    { name: 'w', type: 'float', shape: filterShape(g, route, block) },
  ];
  if (extras.bias) {
    inputs.push({ name: 'b', type: 'float', shape: [route === 'plain' ? outChannels : roundUp(outChannels, block)] });
  }
  if (extras.preluShape) inputs.push({ name: 'prelu', type: 'float', shape: extras.preluShape });
  return {
    nodes,
    consts,
    inputs,
    outputs: [{ name: 'y', type: 'float', shape: convOutputDims(g, route, block, extras) }],
  };
}

/**
 * Several stride-1 convolutions of one input on the 'nchwc-blocked' route, in one graph: x
 * [N, H, W, C] (or see convInputDims) is reordered into blocks once and read by every
 * convolution, where separate graphs would each reorder it again. Convolution i (geometry
 * convs[i], the same input as the others) has filter input `w${i}` and output `y${i}`
 * [N, Ho, Wo, Co_i] (NHWC bytes, or see convOutputDims). The output phases of a strided
 * convolution's input gradient (kernels/conv.ts) are such convolutions of dy.
 */
export function sharedInputConvsGraph(convs: readonly ConvGeometry[], block: number): GraphSpec {
  const route: ConvRoute = 'nchwc-blocked';
  const first = convs[0];
  const directIn = blockedDirectly(route, first.inChannels, block);
  const nodes: NodeSpec[] = [];
  if (!directIn) nodes.push({ op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: ['x'], outputs: ['x_blocked'], attrs: { channels_last: 1 } });
  const x = directIn ? 'x' : 'x_blocked';
  const inputs: ValueSpec[] = [{ name: 'x', type: 'float', shape: convInputDims(first, route, block) }];
  const outputs: ValueSpec[] = [];
  convs.forEach((g, i) => {
    const sameInput = g.batch === first.batch && g.inHeight === first.inHeight && g.inWidth === first.inWidth && g.inChannels === first.inChannels;
    if (!sameInput) throw new Error('sharedInputConvsGraph: every convolution must read the same input');
    const attrs = { kernel_shape: [g.filterHeight, g.filterWidth], strides: g.strides, dilations: g.dilations, pads: g.pads };
    const directOut = directOutput(g, route, block, {});
    nodes.push({ op: 'Conv', domain: NCHWC_DOMAIN, inputs: [x, `w${i}`], outputs: [directOut ? `y${i}` : `y${i}_blocked`], attrs });
    if (!directOut) {
      nodes.push({ op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: [`y${i}_blocked`], outputs: [`y${i}`], attrs: { channels_last: 1, channels: g.outChannels } });
    }
    inputs.push({ name: `w${i}`, type: 'float', shape: filterShape(g, route, block) });
    outputs.push({ name: `y${i}`, type: 'float', shape: convOutputDims(g, route, block) });
  });
  return { nodes, consts: [], inputs, outputs };
}

/** The dims of the graph's output y: NHWC, NCHWc when the output needs no reorder, or the spread image. */
export function convOutputDims(g: ConvGeometry, route: ConvRoute, block: number, extras: ConvExtras = {}): number[] {
  const { batch, outHeight, outWidth, outChannels } = g;
  if (extras.depthToSpace) {
    const { height, width, channels } = extras.depthToSpace;
    return [batch, height, width, channels];
  }
  return directOutput(g, route, block, extras) ? [batch, outChannels, outHeight, outWidth] : [batch, outHeight, outWidth, outChannels];
}

/**
 * Graph of the filter gradient: x [N, H, W, Ci], dy [N, Ho, Wo, Co] -> dw [kh, kw, Ci, Co].
 * For each filter tap (ky, kx), the input pixels it touched form a strided slice of the padded
 * input, and dw[ky, kx] = slice^T dy, a [Ci, N*Ho*Wo] x [N*Ho*Wo, Co] product; NHWC keeps both
 * operands contiguous, so no transposes are needed.
 */
export function filterGradGraph(g: ConvGeometry): GraphSpec {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = g;
  const [sh, sw] = g.strides;
  const [top, left] = g.pads;
  const rows = batch * outHeight * outWidth;
  // The padded input must hold the last tap's last sample; extra rows of padding are never read.
  const bottom = Math.max(0, (outHeight - 1) * sh + filterHeight - inHeight - top);
  const right = Math.max(0, (outWidth - 1) * sw + filterWidth - inWidth - left);
  const nodes: NodeSpec[] = [];
  const consts: ConstSpec[] = [
    { name: 'rows_x', type: 'int64', shape: [2], values: [rows, inChannels] },
    { name: 'rows_dy', type: 'int64', shape: [2], values: [rows, outChannels] },
    { name: 'axes', type: 'int64', shape: [2], values: [1, 2] },
    { name: 'steps', type: 'int64', shape: [2], values: [sh, sw] },
    { name: 'dw_shape', type: 'int64', shape: [4], values: [filterHeight, filterWidth, inChannels, outChannels] },
  ];
  nodes.push({ op: 'Reshape', inputs: ['dy', 'rows_dy'], outputs: ['dy_rows'] }); // [N*Ho*Wo, Co]

  let padded = 'x';
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    consts.push({ name: 'pads', type: 'int64', shape: [8], values: [0, top, left, 0, 0, bottom, right, 0] });
    nodes.push({ op: 'Pad', inputs: ['x', 'pads'], outputs: ['x_padded'] });
    padded = 'x_padded';
  }
  const wholeInput = filterHeight === 1 && filterWidth === 1 && sh === 1 && sw === 1 && outHeight === inHeight && outWidth === inWidth;
  const taps: string[] = [];
  for (let ky = 0; ky < filterHeight; ky++) {
    for (let kx = 0; kx < filterWidth; kx++) {
      const tap = `${ky}_${kx}`;
      let source = padded;
      if (!wholeInput) {
        consts.push(
          { name: `start_${tap}`, type: 'int64', shape: [2], values: [ky, kx] },
          { name: `end_${tap}`, type: 'int64', shape: [2], values: [ky + (outHeight - 1) * sh + 1, kx + (outWidth - 1) * sw + 1] },
        );
        nodes.push({ op: 'Slice', inputs: [padded, `start_${tap}`, `end_${tap}`, 'axes', 'steps'], outputs: [`x_${tap}`] });
        source = `x_${tap}`; // [N, Ho, Wo, Ci]
      }
      nodes.push(
        { op: 'Reshape', inputs: [source, 'rows_x'], outputs: [`rows_${tap}`] }, // [N*Ho*Wo, Ci]
        { op: 'Gemm', inputs: [`rows_${tap}`, 'dy_rows'], outputs: [`dw_${tap}`], attrs: { transA: 1 } }, // [Ci, Co]
      );
      taps.push(`dw_${tap}`);
    }
  }
  if (taps.length === 1) {
    nodes.push({ op: 'Reshape', inputs: [taps[0], 'dw_shape'], outputs: ['dw'] });
  } else {
    nodes.push(
      { op: 'Concat', inputs: taps, outputs: ['dw_taps'], attrs: { axis: 0 } }, // [kh*kw*Ci, Co]
      { op: 'Reshape', inputs: ['dw_taps', 'dw_shape'], outputs: ['dw'] },
    );
  }
  return {
    nodes,
    consts,
    inputs: [
      { name: 'x', type: 'float', shape: [batch, inHeight, inWidth, inChannels] },
      { name: 'dy', type: 'float', shape: [batch, outHeight, outWidth, outChannels] },
    ],
    outputs: [{ name: 'dw', type: 'float', shape: [filterHeight, filterWidth, inChannels, outChannels] }],
  };
}

/**
 * Graph of the filter gradient from prepared tap windows: tap_t [rows, Ci] (t = ky * kw + kx),
 * dy [rows, Co] -> dw [kh, kw, Ci, Co], dw[t] = tap_t^T dy. Used for stride 1, where every tap's
 * window is a contiguous run of one padded copy of the input (see conv-filter-grad.ts).
 */
export function tapGemmGraph(rows: number, inChannels: number, outChannels: number, filterHeight: number, filterWidth: number): GraphSpec {
  const taps = filterHeight * filterWidth;
  const names = Array.from({ length: taps }, (_, t) => t);
  return {
    nodes: [
      ...names.map((t) => ({ op: 'Gemm', inputs: [`tap_${t}`, 'dy'], outputs: [`dw_${t}`], attrs: { transA: 1 } })), // [Ci, Co]
      { op: 'Concat', inputs: names.map((t) => `dw_${t}`), outputs: ['dw_taps'], attrs: { axis: 0 } }, // [kh*kw*Ci, Co]
      { op: 'Reshape', inputs: ['dw_taps', 'dw_shape'], outputs: ['dw'] },
    ],
    consts: [{ name: 'dw_shape', type: 'int64', shape: [4], values: [filterHeight, filterWidth, inChannels, outChannels] }],
    inputs: [
      ...names.map((t) => ({ name: `tap_${t}`, type: 'float' as const, shape: [rows, inChannels] })),
      { name: 'dy', type: 'float', shape: [rows, outChannels] },
    ],
    outputs: [{ name: 'dw', type: 'float', shape: [filterHeight, filterWidth, inChannels, outChannels] }],
  };
}

/**
 * Rows and columns of padded input the filter gradient's convolution over the batch reads:
 * s (Ho - 1) + kh by s (Wo - 1) + kw (the forward convolution's padded input, less any rows and
 * columns its stride skips at the end).
 */
export function batchConvInputSize(g: ConvGeometry): { height: number; width: number } {
  return { height: g.strides[0] * (g.outHeight - 1) + g.filterHeight, width: g.strides[1] * (g.outWidth - 1) + g.filterWidth };
}

/**
 * The filter gradient as one NCHWc convolution over the batch (kernels/filter-grad-by-conv.ts),
 * the input channels in `groups` groups of C = Ci / groups: input xb [groups, Np, Hp, Wp * C]
 * (the padded input with the images as channels, blocked, each row of pixels one row of Wp * C
 * values), weights wb [Cop, Np, Ho, Wo] (dy with the images as input channels, OIHWBiBo), dilated
 * by the forward stride s along the rows and by s * C along a row -> dw [groups, kh, kw * C, Co]
 * (with one group, the bytes of dw [kh, kw, Ci, Co]).
 */
export function filterGradConvGraph(g: ConvGeometry, block: number, batchPadded: number, groups: number): GraphSpec {
  const [sh, sw] = g.strides;
  const padded = batchConvInputSize(g);
  const channels = g.inChannels / groups;
  return {
    nodes: [
      {
        op: 'Conv', domain: NCHWC_DOMAIN, inputs: ['xb', 'wb'], outputs: ['dw_blocked'],
        attrs: { kernel_shape: [g.outHeight, g.outWidth], strides: [1, 1], dilations: [sh, sw * channels], pads: [0, 0, 0, 0] },
      },
      // [groups, Cop, kh, kw * C] in blocks -> [groups, kh, kw * C, Co]
      { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: ['dw_blocked'], outputs: ['dw'], attrs: { channels_last: 1, channels: g.outChannels } },
    ],
    inputs: [
      { name: 'xb', type: 'float', shape: [groups, batchPadded, padded.height, padded.width * channels] },
      { name: 'wb', type: 'float', shape: [roundUp(g.outChannels, block), batchPadded, g.outHeight, g.outWidth] },
    ],
    outputs: [{ name: 'dw', type: 'float', shape: [groups, g.filterHeight, g.filterWidth * channels, g.outChannels] }],
  };
}
