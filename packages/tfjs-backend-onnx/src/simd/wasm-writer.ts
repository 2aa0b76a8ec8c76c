/**
 * A minimal WebAssembly binary writer: one imported memory, functions with i32/f32/v128 locals,
 * and the handful of instructions the SIMD kernels use. Enough to build the kernels at run time
 * without a toolchain or a binary blob in the repository.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** A function: parameter and extra local types (indices run on from the parameters) and code. */
export interface WasmFunction {
  name: string;
  params: ValType[];
  locals: ValType[];
  body: number[];
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const vector = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Instructions (each returns its bytes). Memory accesses assume 4-byte alignment. */
export const op = {
  get: (local: number) => [0x20, ...leb(local)],
  set: (local: number) => [0x21, ...leb(local)],
  tee: (local: number) => [0x22, ...leb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f32: (value: number) => [0x43, ...new Uint8Array(Float32Array.of(value).buffer)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  i32GeU: [0x4f],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Neg: [0x8c],
  f32Min: [0x96],
  f32Max: [0x97],
  f32Gt: [0x5e],
  f32Ne: [0x5c],
  select: [0x1b],
  v128Load: [0xfd, 0x00, 2, 0],
  v128Store: [0xfd, 0x0b, 2, 0],
  /** v128.load / v128.store at a constant byte offset from the address on the stack */
  v128LoadAt: (offset: number) => [0xfd, 0x00, 2, ...leb(offset)],
  v128StoreAt: (offset: number) => [0xfd, 0x0b, 2, ...leb(offset)],
  f32x4Splat: [0xfd, 0x13],
  f32x4Gt: [0xfd, 0x44],
  f32x4Ne: [0xfd, 0x42],
  v128Bitselect: [0xfd, 0x52],
  v128And: [0xfd, 0x4e],
  f32x4Neg: [0xfd, ...leb(0xe1)],
  f32x4Add: [0xfd, ...leb(0xe4)],
  f32x4Sub: [0xfd, ...leb(0xe5)],
  f32x4Mul: [0xfd, ...leb(0xe6)],
  f32x4Div: [0xfd, ...leb(0xe7)],
  f32x4Min: [0xfd, ...leb(0xe8)],
  f32x4Max: [0xfd, ...leb(0xe9)],
  drop: [0x1a],
  /** i8x16.shuffle of the two vectors on the stack, picking 32-bit lanes (0-3 first, 4-7 second) */
  i32x4Shuffle: (lanes: [number, number, number, number]) => [0xfd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
};

/**
 * `for (i = start; i < end; i += step) body` over byte offsets held in locals `i` and `end`
 * (the caller sets `i` first).
 */
export function forLoop(i: number, end: number, step: number, body: number[]): number[] {
  return [
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...op.get(i), ...op.get(end), ...op.i32GeU, 0x0d, 1, // br_if out of the block
    ...body,
    ...op.get(i), ...op.i32(step), ...op.i32Add, ...op.set(i),
    0x0c, 0, // br to the loop
    0x0b, 0x0b, // end loop, end block
  ];
}

/** Loads a float (or 4 when `simd`) from base + offset (locals). */
export const load = (base: number, offset: number, simd: boolean) => [...op.get(base), ...op.get(offset), ...op.i32Add, ...(simd ? op.v128Load : op.f32Load)];
/** Pushes base + offset (locals), the address of a store. */
export const address = (base: number, offset: number) => [...op.get(base), ...op.get(offset), ...op.i32Add];
export const store = (simd: boolean) => (simd ? op.v128Store : op.f32Store);
/** end = (count * 4) rounded down to whole vectors when `simd`. */
const byteEnd = (count: number, end: number, simd: boolean) => [
  ...op.get(count), ...op.i32(2), ...op.i32Shl, ...(simd ? [...op.i32(-16), ...op.i32And] : []), ...op.set(end),
];

/** Two loops: whole vectors, then the remaining floats one by one. */
export function vectorThenTail(i: number, end: number, count: number, body: (simd: boolean) => number[]): number[] {
  return [
    ...op.i32(0), ...op.set(i),
    ...byteEnd(count, end, true), ...forLoop(i, end, 16, body(true)),
    ...byteEnd(count, end, false), ...forLoop(i, end, 4, body(false)),
  ];
}


/**
 * `for (r = 0; r < rows; r++) body` over a row-major [rows, inner] layout: before each body,
 * every `[base, rowLocal]` pair sets rowLocal = base + r * inner * 4 (byte offsets).
 * Needs locals r, rows (count), inner (count) and `row` (scratch byte offset).
 */
export function rowLoop(r: number, rows: number, inner: number, row: number, pairs: Array<[number, number]>, body: number[]): number[] {
  return [
    ...op.i32(0), ...op.set(row),
    ...op.i32(0), ...op.set(r),
    ...forLoop(r, rows, 1, [
      ...pairs.flatMap(([base, rowLocal]) => [...op.get(base), ...op.get(row), ...op.i32Add, ...op.set(rowLocal)]),
      ...body,
      ...op.get(row), ...op.get(inner), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(row),
    ]),
  ];
}

/** The largest memory a 32-bit module can address, in 64 KiB pages. */
export const MAX_PAGES = 65536;

/**
 * The module bytes: memory imported as env.memory, every function exported by name. A module for
 * a shared memory must say so (limits flag 3, which also needs a maximum: the largest possible, so
 * that any shared memory of the runtime can be imported).
 */
export function encodeModule(functions: WasmFunction[], sharedMemory = false): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector([])]);
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map((t) => [1, t]));
    const code = [...locals, ...f.body, 0x0b];
    return [...leb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, ...(sharedMemory ? [0x03, 0x00, ...leb(MAX_PAGES)] : [0x00, 0x00])]])),
    ...section(3, vector(functions.map((_, i) => leb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...leb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
