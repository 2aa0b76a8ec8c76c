/**
 * The parts of the WebAssembly JS API used here, typed locally: the project's TypeScript
 * settings (ES2022 lib, Node types) do not declare the WebAssembly global.
 */
import { encodeModule, type WasmFunction } from './wasm-writer';

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

/**
 * Compiles `functions` into a module importing `memory` (declared shared when the memory is) and
 * returns its exports, each function by its name.
 */
export function instantiate(functions: WasmFunction[], memory: WasmMemory): Record<string, unknown> {
  const module = new wasm.Module(encodeModule(functions, memory.buffer instanceof SharedArrayBuffer));
  return new wasm.Instance(module, { env: { memory } }).exports;
}
