/**
 * MaxPool's gradient, our wasm kernel (kernels/pool.c). The backend's own C++ kernel took a
 * sixth of a training step (136 ms for one 32x64x64x32 pooling), a JavaScript loop 40 ms. Its
 * MaxPoolWithArgmax can't stand in: it reports index 0 for a window whose maximum is negative
 * (tfjs 4.22).
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, zeros, type TensorInfo } from './heap.js';
import { kernelsFor } from './kernel-module.js';
import { replaceKernel } from '../kernel-util.js';

type PoolAttrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

export function registerMaxPoolGrad(backendName = 'wasm'): void {
  replaceKernel({
    kernelName: 'MaxPoolGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
      const a = attrs as unknown as PoolAttrs;
      const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
      const b = asWasm(backend);
      const out = zeros(b, input.shape);
      const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
      kernelsFor(b).run('max_pool_grad', offsetOf(b, input), offsetOf(b, dy), offsetOf(b, out), batchSize, h, w, c, oh, ow, kh, kw, sh, sw, info.padInfo.top, info.padInfo.left);
      return out;
    },
  });
}
