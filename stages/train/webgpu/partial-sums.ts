import * as tf from '@tensorflow/tfjs';
import { kernel, runner } from '../kernel-util.js';
import { asWebGpu } from './program.js';

/** Sums `partials` [splits, ...] over its first axis and reshapes the sum to `shape`. */
export function sumSplits(backend: unknown, partials: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const run = runner(backend);
  const reshape = kernel('Reshape', 'webgpu');
  if (partials.shape[0] === 1) {
    const out = run(reshape, { x: partials }, { shape });
    asWebGpu(backend).disposeData(partials.dataId);
    return out;
  }
  const summed = run(kernel('Sum', 'webgpu'), { x: partials }, { axis: [0], keepDims: false });
  asWebGpu(backend).disposeData(partials.dataId);
  const out = run(reshape, { x: summed }, { shape });
  asWebGpu(backend).disposeData(summed.dataId);
  return out;
}
