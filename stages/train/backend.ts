import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerConv2DBackpropFilter, registerConv2DBackpropInput, registerDepthwiseGradients } from './wasm-kernels.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/**
 * Picks the fastest backend that loads: tfjs-node-gpu, then tfjs-node (both native, optional:
 * their install downloads libtensorflow), then wasm with our training kernels, then cpu.
 * `preferred` (or PIPELINE_TF_BACKEND) forces one. Returns what is in use, for the run record.
 */
export async function initBackend(preferred?: string): Promise<{ backend: string; detail: string }> {
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
  if (wanted === 'auto' || wanted === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    // Local files only: nothing outside this machine is reachable, and shouldn't be needed.
    wasm.setWasmPaths(path.join(dist, 'dist') + path.sep);
    if (await tf.setBackend('wasm')) {
      registerConv2DBackpropFilter('wasm');
      registerConv2DBackpropInput('wasm');
      registerDepthwiseGradients('wasm');
      return { backend: 'wasm', detail: `tfjs-backend-wasm ${wasm.version_wasm}, ${wasm.getThreadsCount()} thread(s)` };
    }
    if (wanted === 'wasm') throw new Error('the wasm backend failed to initialise');
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', detail: 'tfjs cpu (slow: pure JavaScript)' };
}
