import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels } from './wasm/index.js';
import { useWasmThreads, wasmThreadsStarted } from './wasm/threads.js';
import { gpuDevicePresent, startWebGpu } from './webgpu/backend.js';

/**
 * Threads for one training process: what the scheduler granted (Slurm's cpus-per-task, or the
 * local executor's share of the cores: `resources.cpu`, else cores / --jobs), else every core.
 * PIPELINE_TF_THREADS overrides. Results do not depend on it: each output of XNNPACK's
 * parallel GEMM is computed whole by one thread.
 */
export function cpuThreads(env: NodeJS.ProcessEnv = process.env): number {
  for (const value of [env.PIPELINE_TF_THREADS, env.SLURM_CPUS_PER_TASK, env.PIPELINE_CPUS]) {
    const n = Number(value);
    if (value && Number.isInteger(n) && n >= 1) return n;
  }
  return availableParallelism();
}

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/**
 * Picks the fastest backend that loads: tfjs-node-gpu, then tfjs-node (both native, optional:
 * their install downloads libtensorflow), then webgpu where a GPU is present (a software
 * Vulkan only when asked for by name), then wasm with our training kernels, then cpu.
 * `preferred` (or PIPELINE_TF_BACKEND) forces one. Returns what is in use, for the run record.
 */
export async function initBackend(preferred?: string, threads = cpuThreads()): Promise<{ backend: string; detail: string }> {
  const wanted = preferred ?? process.env.PIPELINE_TF_BACKEND ?? 'auto';
  if (wanted === 'auto' || wanted === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        require(pkg);
        await tf.setBackend('tensorflow');
        return { backend: 'tensorflow', detail: pkg };
      } catch {
        // Not installed (the usual case on a machine that cannot download libtensorflow).
      }
    }
    if (wanted === 'tensorflow') throw new Error('backend tensorflow requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads');
  }
  let notWebGpu = '';
  if (wanted === 'webgpu' || (wanted === 'auto' && gpuDevicePresent())) {
    // Under auto, a GPU that cannot be used (no Vulkan driver, an unmappable assignment) falls
    // back to wasm and says why in the run record; asked for by name, it is an error.
    const started = await startWebGpu(wanted === 'webgpu').catch((error: Error) => {
      if (wanted === 'webgpu') throw error;
      return { unavailable: error.message };
    });
    if ('detail' in started) return { backend: 'webgpu', detail: started.detail };
    if (wanted === 'webgpu') throw new Error(`backend webgpu requested but ${started.unavailable}`);
    notWebGpu = `; not webgpu: ${started.unavailable}`;
  }
  if (wanted === 'auto' || wanted === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    // Local files only: nothing outside this machine is reachable, and shouldn't be needed.
    wasm.setWasmPaths(path.join(dist, 'dist') + path.sep);
    if (threads > 1) useWasmThreads(threads);
    const ready = await tf.setBackend('wasm');
    wasmThreadsStarted();
    if (ready) {
      registerTrainingKernels('wasm');
      return { backend: 'wasm', detail: `tfjs-backend-wasm ${wasm.version_wasm}, ${wasm.getThreadsCount()} thread(s)${notWebGpu}` };
    }
    if (wanted === 'wasm') throw new Error('the wasm backend failed to initialise');
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', detail: 'tfjs cpu (slow: pure JavaScript)' };
}
