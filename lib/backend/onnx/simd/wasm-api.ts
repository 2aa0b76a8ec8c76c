/**
 * The parts of the WebAssembly JS API used here, typed locally: the project's TypeScript
 * settings (ES2022 lib, Node types) do not declare the WebAssembly global.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** The WebAssembly global of this runtime. */
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
