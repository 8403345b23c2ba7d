/**
 * Our WGSL programs run through tfjs-backend-webgpu's own program runner, so they share its
 * buffers, pipeline cache and command batching. The runner (4.22) prepends the declarations
 * each program relies on: the input buffers named by `variableNames`, `result`, `uniforms`
 * (with `uniforms` appended to its struct), and the builtins `localId`, `workgroupId`, ...
 */
import type * as tf from '@tensorflow/tfjs';

/** The shape of tfjs-backend-webgpu's WebGPUProgram that our programs fill in. */
export interface WgslProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  /** true: the runner declares `uniforms.size` and calls `main(index)` with a flat index. */
  size: boolean;
  uniforms: string;
  getUserCode: () => string;
}

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WgslProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: 'int32'; data: number[] }[]): tf.TensorInfo;
  disposeData(dataId: object): void;
}

export function asWebGpu(backend: unknown): WebGpuBackendLike {
  return backend as WebGpuBackendLike;
}

/** Runs `program` with its i32 uniforms, in the order `program.uniforms` declares them. */
export function runProgram(backend: unknown, program: WgslProgram, inputs: tf.TensorInfo[], uniforms: number[]): tf.TensorInfo {
  return asWebGpu(backend).runWebGPUProgram(program, inputs, 'float32', uniforms.map((v) => ({ type: 'int32', data: [v] })));
}

/** WGSL declarations for `names`, all i32 (scalars need no alignment in the uniform struct). */
export function i32Uniforms(names: string[]): string {
  return names.map((n) => `${n} : i32,`).join(' ');
}

/** Workgroups for `n` invocations of a flat program: at most 65,535 along x (WebGPU's limit). */
export function flatDispatch(n: number, workgroup: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / workgroup));
  return groups <= 65535 ? [groups, 1, 1] : [65535, Math.ceil(groups / 65535), 1];
}

/** How many partial sums to split a reduction of length `k` into, for about `target` threads. */
export function splitsFor(k: number, outputs: number, target = 1 << 15): number {
  return Math.max(1, Math.min(Math.ceil(k / 64), Math.ceil(target / Math.max(1, outputs))));
}
