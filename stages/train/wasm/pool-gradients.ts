/**
 * MaxPool's gradient in JavaScript over the wasm heap. The backend's own C++ kernel took a
 * sixth of a training step (136 ms for one 32x64x64x32 pooling). Its MaxPoolWithArgmax can't
 * stand in: it reports index 0 for a window whose maximum is negative (tfjs 4.22).
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, view, zeros, type TensorInfo } from './heap.js';
import { replaceKernel } from './kernel-util.js';

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
      // Views after the allocation: it may have grown (and so replaced) the heap's buffer.
      const x = view(b, input);
      const g = view(b, dy);
      const dx = view(b, out);
      const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
      const { top, left } = info.padInfo;
      // Per output pixel, the offsets of its window's in-image pixels (row-major, as tfjs scans).
      const taps = new Int32Array(kh * kw);
      for (let n = 0; n < batchSize; n++)
        for (let p = 0; p < oh; p++)
          for (let q = 0; q < ow; q++) {
            let count = 0;
            for (let i = 0; i < kh; i++) {
              const y = p * sh - top + i;
              if (y < 0 || y >= h) continue;
              for (let j = 0; j < kw; j++) {
                const xx = q * sw - left + j;
                if (xx >= 0 && xx < w) taps[count++] = ((n * h + y) * w + xx) * c;
              }
            }
            if (count === 0) continue;
            const dyBase = ((n * oh + p) * ow + q) * c;
            const first = taps[0]!;
            for (let k = 0; k < c; k++) {
              // Strictly greater: the first maximum in the window gets the gradient, as in tfjs's cpu kernel.
              let at = first + k;
              let best = x[at]!;
              for (let t = 1; t < count; t++) {
                const v = x[taps[t]! + k]!;
                if (v > best) {
                  best = v;
                  at = taps[t]! + k;
                }
              }
              dx[at] = dx[at]! + g[dyBase + k]!;
            }
          }
      return out;
    },
  });
}
