/**
 * Our own training kernels (kernels/*.c, built by kernels/build.sh) as a second wasm module that
 * imports the tfjs backend's memory: its functions take byte offsets of tensors on the backend's
 * heap and work in place. In the threaded build the memory is shared, so worker threads run
 * their share of each kernel over the same tensors (kernel-pool.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { WasmBackend } from './heap.js';
import { KernelPool } from './kernel-pool.js';

/** Exported kernels and their arguments, less the trailing (part, parts) every one takes. */
export interface KernelSignatures {
  conv2d_filter_grad: [x: number, dy: number, dw: number, ...geometry: ConvGeometry];
  max_pool_grad: [x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number];
  depthwise_input_grad: [dy: number, filter: number, dx: number, ...geometry: DepthwiseGeometry];
  depthwise_filter_grad: [x: number, dy: number, dw: number, ...geometry: DepthwiseGeometry];
  sum_leading: [x: number, out: number, rows: number, width: number];
  conv2d: [x: number, filter: number, y: number, ...geometry: ConvGeometry];
  swap_filter_channels: [filter: number, swapped: number, taps: number, c: number, o: number];
  conv2d_input_grad: [dy: number, filter: number, swapped: number, dx: number, ...geometry: ConvGeometry];
}
export type KernelName = keyof KernelSignatures;

type ConvGeometry = [n: number, h: number, w: number, c: number, oh: number, ow: number, o: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number];
type DepthwiseGeometry = [n: number, h: number, w: number, c: number, oh: number, ow: number, multiplier: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number];

/** The shape arguments the convolution kernels take after their three tensors (no dilation). */
export function convGeometry(ci: tf.backend_util.Conv2DInfo): ConvGeometry {
  return [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outHeight, ci.outWidth, ci.outChannels, ci.filterHeight, ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left];
}

/** The same for the depthwise kernels: channel multiplier and dilations instead of outputs. */
export function depthwiseGeometry(ci: tf.backend_util.Conv2DInfo, multiplier: number): DepthwiseGeometry {
  return [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outHeight, ci.outWidth, multiplier, ci.filterHeight, ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight, ci.dilationWidth, ci.padInfo.top, ci.padInfo.left];
}

export interface Kernels {
  /** Runs `name` over the whole output, split across the pool's threads; returns when all are done. */
  run<K extends KernelName>(name: K, ...args: KernelSignatures[K]): void;
  readonly threads: number;
}

const DATA_SECTION = 11;

/** Section ids of a wasm binary, to refuse one that would write the host's heap when instantiated. */
export function sectionIds(binary: Uint8Array): number[] {
  const ids: number[] = [];
  let i = 8;
  while (i < binary.length) {
    const id = binary[i++]!;
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = binary[i++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    i += size;
  }
  return ids;
}

function compile(shared: boolean): WebAssembly.Module {
  const file = fileURLToPath(new URL(`../../../../stages/train/wasm/kernels/${shared ? 'kernels-threads' : 'kernels'}.wasm`, import.meta.url));
  const binary = readFileSync(file);
  if (sectionIds(binary).includes(DATA_SECTION)) throw new Error(`${file} has a data section: instantiating it would overwrite the tfjs heap`);
  // The kernels use relaxed SIMD's fused multiply-add: shipped in Node 22, behind a flag in 20.
  if (!WebAssembly.validate(binary)) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return new WebAssembly.Module(binary);
}

interface BackendModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

function memoryOf(backend: WasmBackend): WebAssembly.Memory {
  const module = backend.wasm as unknown as BackendModule;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('tfjs-backend-wasm exposes no WebAssembly.Memory (unsupported version?)');
  return memory;
}

const loaded = new WeakMap<object, Kernels>();

/** The kernels bound to `backend`'s heap, on as many threads as the backend has (threaded build). */
export function kernelsFor(backend: WasmBackend, threads = getThreadsCount()): Kernels {
  let kernels = loaded.get(backend);
  if (!kernels) {
    const memory = memoryOf(backend);
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const pool = new KernelPool(compile(shared), memory, shared ? threads : 1);
    kernels = {
      threads: pool.threads,
      run: (name, ...args) => pool.run(name, args),
    };
    loaded.set(backend, kernels);
  }
  return kernels;
}
