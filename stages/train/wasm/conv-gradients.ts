/**
 * Convolution gradients for the tfjs wasm backend, which (4.22) cannot train convolutions: it
 * lacks Conv2DBackpropFilter and its Conv2DBackpropInput is a plain loop. The filter gradient is
 * our wasm kernel; the input gradient is a convolution, run by the backend's Conv2D (ours too,
 * conv-forward.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, zeros, type TensorInfo } from './heap.js';
import { convGeometry, kernelsFor } from './kernel-module.js';
import { kernel, replaceKernel, runner, type Conv2DAttrs } from '../kernel-util.js';

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
 * dx = Conv2D(dy', flip(W) with in/out swapped, stride 1, pad = K - 1 - pad), where dy' is dy
 * with (stride - 1) zeros between its entries (for stride 1, dy itself). NCHW, or an unusual
 * padding, uses the stock kernel (tfjs's Conv2DBackpropInput has no dilations).
 */
export function registerConv2DBackpropInput(backendName = 'wasm'): void {
  const stock = kernel('Conv2DBackpropInput', backendName);
  const transpose = kernel('Transpose', backendName);
  const reverse = kernel('Reverse', backendName);
  const conv = kernel('Conv2D', backendName);
  const reshape = kernel('Reshape', backendName);
  const pad = kernel('PadV2', backendName);
  const slice = kernel('Slice', backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      const info = tf.backend_util.computeConv2DInfo(a.inputShape!, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, format);
      if (format !== 'channelsLast') return stock.kernelFunc(args);
      const run = runner(backend);
      const dispose = (t: TensorInfo) => asWasm(backend).disposeData(t.dataId);
      const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
      const dilatedH = (info.outHeight - 1) * sh + 1;
      const dilatedW = (info.outWidth - 1) * sw + 1;
      const pt = kh - 1 - info.padInfo.top;
      const pl = kw - 1 - info.padInfo.left;
      const pb = info.inHeight - dilatedH + kh - 1 - pt;
      const pr = info.inWidth - dilatedW + kw - 1 - pl;
      if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return stock.kernelFunc(args);
      let spread = dy;
      if (sh > 1 || sw > 1) {
        // Interleave zeros: [B,OH,OW,C] -> [B,OH,1,OW,1,C] -> pad to [B,OH,sh,OW,sw,C] -> [B,OH*sh,OW*sw,C] -> crop.
        const [b, oh, ow, c] = dy.shape;
        const r6 = run(reshape, { x: dy }, { shape: [b, oh, 1, ow, 1, c] });
        const padded = run(pad, { x: r6 }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
        dispose(r6);
        const flat = run(reshape, { x: padded }, { shape: [b, oh * sh, ow * sw, c] });
        dispose(padded);
        spread = run(slice, { x: flat }, { begin: [0, 0, 0, 0], size: [b, dilatedH, dilatedW, c] });
        dispose(flat);
      }
      const flipped = run(reverse, { x: filter }, { dims: [0, 1] });
      const swapped = run(transpose, { x: flipped }, { perm: [0, 1, 3, 2] });
      dispose(flipped);
      const out = run(conv, { x: spread, filter: swapped }, { strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined, pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]] });
      dispose(swapped);
      if (spread !== dy) dispose(spread);
      return out;
    },
  });
}
