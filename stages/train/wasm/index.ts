/**
 * The kernels that make the tfjs wasm backend train: the gradients it lacks (convolution filter,
 * depthwise) and faster versions of those that dominate a step (convolution input, max-pool,
 * bias sums, batch-norm tiling). Each is tested against the cpu backend in
 * test/stages/kernels.test.ts.
 */
import { registerConv2D } from './conv-forward.js';
import { registerConv2DBackpropFilter, registerConv2DBackpropInput } from './conv-gradients.js';
import { registerDepthwiseGradients } from './depthwise-gradients.js';
import { registerMaxPoolGrad } from './pool-gradients.js';
import { registerAliasingIdentity, registerLeadingAxesSum } from './reduce.js';
import { registerRepeatingTile } from './tile.js';

export function registerTrainingKernels(backendName = 'wasm'): void {
  // Before the input gradient, which runs the backend's Conv2D.
  registerConv2D(backendName);
  registerConv2DBackpropFilter(backendName);
  registerConv2DBackpropInput(backendName);
  registerDepthwiseGradients(backendName);
  registerMaxPoolGrad(backendName);
  registerLeadingAxesSum(backendName);
  registerAliasingIdentity(backendName);
  registerRepeatingTile(backendName);
}
