/**
 * Convolution gradients for the tfjs wasm backend, which (4.22) cannot train convolutions: it
 * lacks Conv2DBackpropFilter and its Conv2DBackpropInput is a plain loop. Both are our wasm
 * kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, zeros, type TensorInfo } from './heap.js';
import { convGeometry, kernelsFor } from './kernel-module.js';
import { kernel, replaceKernel, type Conv2DAttrs } from '../kernel-util.js';

/**
 * dW [KH,KW,C,O] = sum over the batch's output pixels of x[input pixel, c] * dy[pixel, o]: our
 * own wasm kernel (kernels/conv.c), straight from NHWC x and dy. XNNPACK needed both operands
 * rearranged first (im2col patches and a packed dy, a third of the gradient's time), and the
 * reference's Conv2D over transposed tensors ran it at a quarter of its GEMM speed.
 */
export function registerConv2DBackpropFilter(backendName = 'wasm'): void {
  replaceKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      if (format !== 'channelsLast') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape!, a.strides, 1, a.pad, a.dimRoundingMode, false, format);
      const b = asWasm(backend);
      const dw = zeros(b, a.filterShape!);
      kernelsFor(b).run('conv2d_filter_grad', offsetOf(b, x), offsetOf(b, dy), offsetOf(b, dw), ...convGeometry(info));
      return dw;
    },
  });
}

/**
 * dx: our wasm kernel (kernels/conv.c), each output pixel's gradient added straight into the
 * input pixels its taps read. The transposed convolution it replaces (Conv2D over dy with
 * (stride - 1) zeros interleaved and a flipped filter) did 4x the work at stride 2, and a first
 * layer's three input channels ran it one scalar at a time: 1.5 s of resnet18's 3.7 s step at
 * 224 px. NCHW uses the stock kernel.
 */
export function registerConv2DBackpropInput(backendName = 'wasm'): void {
  const stock = kernel('Conv2DBackpropInput', backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      if (format !== 'channelsLast') return stock.kernelFunc(args);
      const info = tf.backend_util.computeConv2DInfo(a.inputShape!, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, format);
      const b = asWasm(backend);
      const [kh, kw, c, o] = filter.shape as [number, number, number, number];
      const swapped = b.makeOutput([kh, kw, o, c], 'float32');
      const kernels = kernelsFor(b);
      kernels.run('swap_filter_channels', offsetOf(b, filter), offsetOf(b, swapped), kh * kw, c, o);
      const dx = zeros(b, a.inputShape!);
      kernels.run('conv2d_input_grad', offsetOf(b, dy), offsetOf(b, filter), offsetOf(b, swapped), offsetOf(b, dx), ...convGeometry(info));
      b.disposeData(swapped.dataId);
      return dx;
    },
  });
}
