/**
 * A minimal ONNX model writer: just enough protobuf (varints and length-delimited fields) to
 * encode a small graph of standard operators, so no protobuf package is needed.
 * Field numbers follow onnx/onnx.proto (IR version 8).
 */

/** ONNX element types used here (TensorProto.DataType). */
export const ElemType = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type ElemTypeName = keyof typeof ElemType;

/** An attribute value: a number is written as INT when it is an integer, else as FLOAT. */
export type AttrValue = number | number[] | string | { float: number };

/** One operator node. */
export interface NodeSpec {
  op: string;
  /** operator set domain; '' (default) is standard ONNX */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

/** A graph input or output: name, element type and shape (a string is a symbolic dimension). */
export interface ValueSpec {
  name: string;
  type: ElemTypeName;
  shape: ReadonlyArray<number | string>;
}

/** A constant baked into the model (shapes, axes, pads). */
export interface ConstSpec {
  name: string;
  type: 'int64' | 'float';
  shape: number[];
  values: number[];
}

/** A whole single-graph model. */
export interface GraphSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  consts?: ConstSpec[];
}

const OPSET = 17;
const IR_VERSION = 8;

/** Growable byte buffer with the protobuf primitives. */
class Writer {
  private bytes: number[] = [];

  varint(value: number): void {
    // Negative int64 values are written as ten-byte two's complement, as protobuf requires.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  tag(field: number, wireType: 0 | 2 | 5): void {
    this.varint(field * 8 + wireType);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const buf = new DataView(new ArrayBuffer(4));
    buf.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.bytes.push(buf.getUint8(i));
  }

  bytesField(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    for (const b of data) this.bytes.push(b);
  }

  string(field: number, value: string): void {
    this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeAttribute(w: Writer, name: string, value: AttrValue): void {
  // AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20
  w.string(1, name);
  if (typeof value === 'string') {
    w.string(4, value);
    w.int(20, 3);
  } else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, 7);
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    w.int(3, value);
    w.int(20, 2);
  } else {
    w.float(2, typeof value === 'number' ? value : value.float);
    w.int(20, 1);
  }
}

function writeValueInfo(w: Writer, value: ValueSpec): void {
  // ValueInfoProto: name=1, type=2; TypeProto.tensor_type=1; Tensor: elem_type=1, shape=2;
  // TensorShapeProto.dim=1; Dimension.dim_value=1, dim_param=2
  w.string(1, value.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ElemType[value.type]);
      tensor.message(2, (shape) => {
        for (const d of value.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeConst(w: Writer, c: ConstSpec): void {
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian values)
  for (const d of c.shape) w.int(1, d);
  w.int(2, ElemType[c.type]);
  w.string(8, c.name);
  const raw =
    c.type === 'int64'
      ? new Uint8Array(BigInt64Array.from(c.values.map((v) => BigInt(v))).buffer)
      : new Uint8Array(Float32Array.from(c.values).buffer);
  w.bytesField(9, raw);
}

function writeNode(w: Writer, node: NodeSpec, index: number): void {
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, `${node.op}_${index}`);
  w.string(4, node.op);
  if (node.domain) w.string(7, node.domain);
  for (const [name, value] of Object.entries(node.attrs ?? {})) {
    w.message(5, (attr) => writeAttribute(attr, name, value));
  }
}

/** Serializes a graph as an ONNX ModelProto (opset 17), ready for `InferenceSession.loadModel`. */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const w = new Writer();
  // ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8
  w.int(1, IR_VERSION);
  w.string(2, 'cifar-ssl');
  w.message(7, (g) => {
    // GraphProto: node=1, name=2, initializer=5, input=11, output=12
    graph.nodes.forEach((node, i) => g.message(1, (n) => writeNode(n, node, i)));
    g.string(2, 'kernel');
    for (const c of graph.consts ?? []) g.message(5, (t) => writeConst(t, c));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  // OperatorSetIdProto: domain=1, version=2; ONNX Runtime's own domains are at version 1
  const domains = new Set(graph.nodes.map((node) => node.domain ?? ''));
  domains.add('');
  for (const domain of domains) {
    w.message(8, (opset) => {
      opset.string(1, domain);
      opset.int(2, domain === '' ? OPSET : 1);
    });
  }
  return w.finish();
}
