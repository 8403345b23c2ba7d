/**
 * Direct access to tensors on the wasm backend's heap. Kernels written in JavaScript read their
 * inputs and write their outputs in place: `readSync` and `makeOutput(values)` would each copy
 * the whole tensor, which costs as much as the kernel itself.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;

interface WasmModule {
  HEAPU8: Uint8Array;
  /** Present in the threaded build, where another thread may have grown the memory. */
  wasmMemory?: WebAssembly.Memory;
}

/** The parts of tfjs-backend-wasm's BackendWasm that kernels use (not in its public types). */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
  disposeData(dataId: object): void;
}

export function asWasm(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

function buffer(backend: WasmBackend): ArrayBufferLike {
  return backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/** A live float32 view of a tensor's data; valid until the next allocation on the backend. */
export function view(backend: WasmBackend, t: TensorInfo): Float32Array {
  return new Float32Array(buffer(backend), backend.dataIdMap.get(t.dataId).memoryOffset, tf.util.sizeFromShape(t.shape));
}

/**
 * The whole heap as float32, and a tensor's index in it: copies between two tensors then run as
 * `heap.copyWithin`, a memmove with no view to allocate per row.
 */
export function heapF32(backend: WasmBackend): Float32Array {
  return new Float32Array(buffer(backend));
}

/** A tensor's byte offset on the heap: how our own wasm kernels address it. */
export function offsetOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

export function indexOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset / Float32Array.BYTES_PER_ELEMENT;
}

/** A new zero-filled float32 output tensor (fresh heap memory may hold stale values). */
export function zeros(backend: WasmBackend, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  view(backend, out).fill(0);
  return out;
}
