/**
 * Our WebGPU training kernels: the convolution filter and input gradients as implicit matrix
 * products, the depthwise gradients, and a one-pass batch-norm gradient. Each is tested
 * against the cpu backend in test/stages/webgpu-kernels.test.ts (on Mesa's lavapipe in CI).
 */
import { registerBatchNormGradient } from './batch-norm-gradient.js';
import { registerConv2DBackpropFilter, registerConv2DBackpropInput } from './conv-gradients.js';
import { registerDepthwiseGradients } from './depthwise-gradients.js';

let registered = false;

/** Once per process: each replacement keeps the stock kernel it replaced as its fallback. */
export function registerWebGpuTrainingKernels(): void {
  if (registered) return;
  registered = true;
  registerConv2DBackpropFilter();
  registerConv2DBackpropInput();
  registerDepthwiseGradients();
  registerBatchNormGradient();
}
