/**
 * The depthwise-convolution gradients (MobileNet's blocks), which the wasm backend lacks
 * entirely: our wasm kernels (kernels/depthwise.c), 90 -> ~10 ms of a 24 px MobileNet step
 * against the JavaScript loops they replace.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, zeros, type TensorInfo } from './heap.js';
import { depthwiseGeometry, kernelsFor } from './kernel-module.js';
import { replaceKernel, type Conv2DAttrs } from '../kernel-util.js';

type Shape4 = [number, number, number, number];

function convInfo(inShape: number[], filterShape: number[], a: Conv2DAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
}

export function registerDepthwiseGradients(backendName = 'wasm'): void {
  replaceKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const b = asWasm(backend);
      const out = zeros(b, a.inputShape!);
      kernelsFor(b).run('depthwise_input_grad', offsetOf(b, dy), offsetOf(b, filter), offsetOf(b, out), ...depthwiseGeometry(convInfo(a.inputShape!, filter.shape, a), filter.shape[3]!));
      return out;
    },
  });
  replaceKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const b = asWasm(backend);
      const out = zeros(b, a.filterShape!);
      kernelsFor(b).run('depthwise_filter_grad', offsetOf(b, x), offsetOf(b, dy), offsetOf(b, out), ...depthwiseGeometry(convInfo(x.shape, a.filterShape!, a), a.filterShape![3]));
      return out;
    },
  });
}
