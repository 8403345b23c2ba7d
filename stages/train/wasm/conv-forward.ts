/**
 * Conv2D forward as our wasm kernel (kernels/conv.c): with fused multiply-add it runs about a
 * third faster than the backend's XNNPACK convolution, which wasm SIMD without FMA holds back.
 * Dilated or NCHW convolutions keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, type TensorInfo } from './heap.js';
import { convGeometry, kernelsFor } from './kernel-module.js';
import { kernel, replaceKernel, type Conv2DAttrs } from '../kernel-util.js';

export function registerConv2D(backendName = 'wasm'): void {
  const stock = kernel('Conv2D', backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { x, filter } = inputs as unknown as { x: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, format);
      if (format !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return stock.kernelFunc(args);
      const b = asWasm(backend);
      const y = b.makeOutput(info.outShape, 'float32');
      kernelsFor(b).run('conv2d', offsetOf(b, x), offsetOf(b, filter), offsetOf(b, y), ...convGeometry(info));
      return y;
    },
  });
}
