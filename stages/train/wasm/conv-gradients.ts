/**
 * Convolution gradients for the tfjs wasm backend, which (4.22) cannot train convolutions: it
 * lacks Conv2DBackpropFilter and its Conv2DBackpropInput is a plain loop. Both become work for
 * XNNPACK, the backend's tuned (and, in the threaded build, parallel) GEMM and convolution.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, heapF32, indexOf, type TensorInfo } from './heap.js';
import { kernel, replaceKernel, runner, type Conv2DAttrs } from './kernel-util.js';

/**
 * dW [KH,KW,C,O] = patches [KH*KW*C, P] x dy [P, O] with P = batch * output pixels: one GEMM
 * as large as the forward convolution. `patches` (im2col, transposed) is built in JavaScript
 * from x transposed to [C,N,H,W], so every inner loop copies a contiguous row. The earlier
 * formulation (a Conv2D over transposed x and dy, from the reference prototype) ran XNNPACK on
 * a 3x3 output with a 32x32 kernel and reached a quarter of its GEMM speed.
 */
export function registerConv2DBackpropFilter(backendName = 'wasm'): void {
  const transpose = kernel('Transpose', backendName);
  const matMul = kernel('BatchMatMul', backendName);
  const reshape = kernel('Reshape', backendName);
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
      const run = runner(backend);
      const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
      const { top, left } = info.padInfo;
      const pixels = n * oh * ow;
      const xT = run(transpose, { x }, { perm: [3, 0, 1, 2] });
      const patches = b.makeOutput([1, kh * kw * c, pixels], 'float32');
      const heap = heapF32(b);
      const src = indexOf(b, xT);
      const dst = indexOf(b, patches);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          // Output columns q whose input column q * sw + j - left lies inside the image.
          const qFrom = Math.max(0, Math.ceil((left - j) / sw));
          const qTo = Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1);
          // Output rows p whose input row p * sh + i - top lies inside the image.
          const pFrom = Math.max(0, Math.ceil((top - i) / sh));
          const pTo = Math.min(oh, Math.floor((h - 1 + top - i) / sh) + 1);
          for (let ch = 0; ch < c; ch++)
            for (let b0 = 0; b0 < n; b0++) {
              const image = dst + ((i * kw + j) * c + ch) * pixels + b0 * oh * ow;
              const plane = src + (ch * n + b0) * h * w;
              if (pFrom >= pTo || qFrom >= qTo) {
                heap.fill(0, image, image + oh * ow);
                continue;
              }
              heap.fill(0, image, image + pFrom * ow);
              heap.fill(0, image + pTo * ow, image + oh * ow);
              if (sh === 1 && sw === 1 && ow === w) {
                // Same-size rows: the valid rows are one block shifted by (i - top, j - left);
                // the columns that wrapped around from the neighbouring row are then zeroed.
                const from = plane + (pFrom + i - top) * w + j - left;
                const start = image + pFrom * ow;
                heap.copyWithin(start + qFrom, from + qFrom, from + (pTo - pFrom - 1) * w + qTo);
                for (let p = pFrom; p < pTo; p++) {
                  const row = image + p * ow;
                  for (let q = 0; q < qFrom; q++) heap[row + q] = 0;
                  for (let q = qTo; q < ow; q++) heap[row + q] = 0;
                }
                continue;
              }
              for (let p = pFrom; p < pTo; p++) {
                const row = image + p * ow;
                const from = plane + (p * sh + i - top) * w + j - left;
                for (let q = 0; q < qFrom; q++) heap[row + q] = 0;
                for (let q = qFrom; q < qTo; q++) heap[row + q] = heap[from + q * sw];
                for (let q = qTo; q < ow; q++) heap[row + q] = 0;
              }
            }
        }
      b.disposeData(xT.dataId);
      const dy3 = run(reshape, { x: dy }, { shape: [1, pixels, o] });
      const product = run(matMul, { a: patches, b: dy3 }, { transposeA: false, transposeB: false });
      b.disposeData(patches.dataId);
      b.disposeData(dy3.dataId);
      const dw = run(reshape, { x: product }, { shape: [kh, kw, c, o] });
      b.disposeData(product.dataId);
      return dw;
    },
  });
}

/**
 * dx = Conv2D(dy', flip(W) with in/out swapped, stride 1, pad = K - 1 - pad), where dy' is dy
 * with (stride - 1) zeros between its entries (for stride 1, dy itself). Dilations other than
 * 1, or an unusual padding, use the stock kernel.
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
      if (format !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return stock.kernelFunc(args);
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
