/**
 * The small part of plotly.js's figure schema this project uses, typed so figure builders are
 * checked by the compiler. A `Figure` is plain JSON: the same object feeds `Plotly.newPlot` in
 * an HTML file, the `application/vnd.plotly.v1+json` MIME bundle in a notebook and the PNG export.
 * Reference: https://plotly.com/javascript/reference/
 */

export interface Font {
  size?: number;
  color?: string;
  family?: string;
}

export interface ErrorBar {
  type: 'data';
  /** symmetric error per point, in the units of the axis */
  array: number[];
  visible: boolean;
  thickness?: number;
  width?: number;
}

export interface Line {
  color?: string;
  width?: number;
  dash?: string;
}

export interface Marker {
  color?: string | string[];
  size?: number;
  symbol?: string;
  opacity?: number;
  line?: Line;
}

interface TraceBase {
  name?: string;
  showlegend?: boolean;
  /** traces with the same group toggle together from the legend */
  legendgroup?: string;
  /** subplot axes, e.g. 'x2' and 'y2' */
  xaxis?: string;
  yaxis?: string;
  hovertemplate?: string;
  /** 'skip' turns hover off for the trace */
  hoverinfo?: string;
}

export interface ScatterTrace extends TraceBase {
  type: 'scatter';
  mode: 'lines' | 'markers' | 'lines+markers' | 'markers+text';
  x: number[];
  y: number[];
  error_y?: ErrorBar;
  line?: Line;
  marker?: Marker;
  /** hover text per point (drawn beside it with mode 'markers+text') */
  text?: string[];
  textposition?: 'top center' | 'bottom center' | 'middle right';
}

export interface BarTrace extends TraceBase {
  type: 'bar';
  x: string[];
  y: number[];
  error_y?: ErrorBar;
  marker?: Marker;
  text?: string[];
  textposition?: 'auto' | 'inside' | 'outside' | 'none';
}

export interface HeatmapTrace extends TraceBase {
  type: 'heatmap';
  z: number[][];
  x: string[];
  y: string[];
  colorscale?: string;
  /** flip the colour scale (plotly's 'Blues' runs dark to light) */
  reversescale?: boolean;
  zmin?: number;
  zmax?: number;
  /** text drawn in each cell, same shape as z */
  text?: string[][];
  texttemplate?: string;
  colorbar?: { title?: { text: string } };
}

/** An RGB picture: z[row][column] = [r, g, b] with 0-255 channels, or an encoded image as a data URL in `source`. */
export interface ImageTrace extends TraceBase {
  type: 'image';
  z?: number[][][];
  source?: string;
}

export type Trace = ScatterTrace | BarTrace | HeatmapTrace | ImageTrace;

export interface Axis {
  title?: { text: string };
  type?: 'linear' | 'log' | 'category';
  range?: [number, number];
  tickvals?: number[];
  ticktext?: string[];
  tickformat?: string;
  /** fraction of the figure's width or height the axis spans, for subplots */
  domain?: [number, number];
  /** an axis id ('x', 'x2') whose scale this axis copies */
  anchor?: string;
  matches?: string;
  scaleanchor?: string;
  autorange?: boolean | 'reversed';
  showgrid?: boolean;
  showticklabels?: boolean;
  zeroline?: boolean;
  constrain?: 'domain' | 'range';
  side?: 'top' | 'bottom';
  ticks?: '' | 'outside';
}

export interface Annotation {
  text: string;
  x: number;
  y: number;
  xref: string;
  yref: string;
  showarrow: boolean;
  xanchor?: 'left' | 'center' | 'right';
  yanchor?: 'top' | 'middle' | 'bottom';
  font?: Font;
}

export interface Shape {
  type: 'line';
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xref: string;
  yref: string;
  line: Line;
}

export interface Layout {
  title: { text: string };
  /** size of the static export, pixels (the interactive figure fills its container) */
  width: number;
  height: number;
  xaxis?: Axis;
  yaxis?: Axis;
  xaxis2?: Axis;
  yaxis2?: Axis;
  xaxis3?: Axis;
  yaxis3?: Axis;
  annotations?: Annotation[];
  shapes?: Shape[];
  barmode?: 'group' | 'overlay';
  showlegend?: boolean;
  legend?: { title?: { text: string }; orientation?: 'v' | 'h'; x?: number; y?: number };
  margin?: { l?: number; r?: number; t?: number; b?: number };
  font?: Font;
  hovermode?: 'closest' | 'x' | 'x unified' | false;
}

/** A complete plotly figure: traces plus layout. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}
