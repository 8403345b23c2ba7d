/**
 * The depthwise-convolution gradients (MobileNet's blocks), which the wasm backend lacks
 * entirely. Plain loops over the heap: a depthwise layer is C*K*K multiply-adds per pixel,
 * small next to the pointwise convolutions that XNNPACK runs.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, view, zeros, type TensorInfo } from './heap.js';
import { replaceKernel, type Conv2DAttrs } from './kernel-util.js';

type DepthwiseAttrs = Conv2DAttrs & { dilations: [number, number] | number };
type Shape4 = [number, number, number, number];

/**
 * Calls `tap(xBase, dyBase, wBase)` for every (output pixel, filter tap) pair that lands inside
 * the input: the offsets of x[n,y,x,0], dy[n,p,q,0] and w[i,j,0,0]. Both gradients are this
 * loop with a different multiply-add inside.
 */
function forEachTap(ci: tf.backend_util.Conv2DInfo, tap: (xBase: number, dyBase: number, wBase: number) => void): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: oc, filterHeight: kh, filterWidth: kw } = ci;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = ci;
  const { top, left } = ci.padInfo;
  for (let n = 0; n < batchSize; n++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++) {
          const y = p * sh + i * dh - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const x = q * sw + j * dw - left;
            if (x < 0 || x >= w) continue;
            tap(((n * h + y) * w + x) * c, ((n * oh + p) * ow + q) * oc, (i * kw + j) * oc);
          }
        }
}

function convInfo(inShape: number[], filterShape: number[], a: DepthwiseAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
}

export function registerDepthwiseGradients(backendName = 'wasm'): void {
  replaceKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as DepthwiseAttrs;
      const b = asWasm(backend);
      const ci = convInfo(a.inputShape!, filter.shape, a);
      const out = zeros(b, a.inputShape!);
      const [g, wv, dx] = [view(b, dy), view(b, filter), view(b, out)];
      const c = ci.inChannels;
      const mult = filter.shape[3];
      forEachTap(ci, (xBase, dyBase, wBase) => {
        for (let k = 0; k < c; k++)
          for (let m = 0; m < mult; m++) dx[xBase + k] += g[dyBase + k * mult + m] * wv[wBase + k * mult + m];
      });
      return out;
    },
  });
  replaceKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as DepthwiseAttrs;
      const b = asWasm(backend);
      const ci = convInfo(x.shape, a.filterShape!, a);
      const out = zeros(b, a.filterShape!);
      const [xv, g, dw] = [view(b, x), view(b, dy), view(b, out)];
      const c = ci.inChannels;
      const mult = a.filterShape![3];
      forEachTap(ci, (xBase, dyBase, wBase) => {
        for (let k = 0; k < c; k++)
          for (let m = 0; m < mult; m++) dw[wBase + k * mult + m] += xv[xBase + k] * g[dyBase + k * mult + m];
      });
      return out;
    },
  });
}
