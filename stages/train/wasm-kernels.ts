/**
 * Training kernels for the tfjs wasm backend, which (4.22) cannot train convolutions: it lacks
 * Conv2DBackpropFilter and its Conv2DBackpropInput is a plain loop. Both are rewritten as a
 * Conv2D over transposed/flipped tensors so XNNPACK does the work (after the prototype in
 * shared/reference/tfjs-wasm-training, which matched the cpu kernels to 6e-6).
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type Backend = { disposeData(dataId: object): void };
type Conv2DAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
};

function runner(backend: unknown) {
  return (kernel: tf.KernelConfig, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
    kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: backend as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

function kernel(name: string, backendName: string): tf.KernelConfig {
  const k = tf.getKernel(name, backendName);
  if (!k) throw new Error(`backend ${backendName} has no ${name} kernel`);
  return k;
}

/** dW = Conv2D(transpose(x) [C,H,W,B], transpose(dy) [OH,OW,B,O], dilation = stride) -> [KH,KW,C,O]. */
export function registerConv2DBackpropFilter(backendName = 'wasm'): void {
  const transpose = kernel('Transpose', backendName);
  const conv = kernel('Conv2D', backendName);
  const slice = kernel('Slice', backendName);
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      if (format !== 'channelsLast') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape!, a.strides, 1, a.pad, a.dimRoundingMode, false, format);
      const run = runner(backend);
      const dispose = (t: TensorInfo) => (backend as unknown as Backend).disposeData(t.dataId);
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
      const { top, left } = info.padInfo;
      const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] });
      const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
      const padBottom = Math.max(0, (info.outHeight - 1) * sh + kh - (info.inHeight + top));
      const padRight = Math.max(0, (info.outWidth - 1) * sw + kw - (info.inWidth + left));
      const r = run(conv, { x: xT, filter: dyT }, { strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined, pad: [[0, 0], [top, padBottom], [left, padRight], [0, 0]] });
      dispose(xT);
      dispose(dyT);
      let sliced = r;
      if (r.shape[1] !== kh || r.shape[2] !== kw) {
        sliced = run(slice, { x: r }, { begin: [0, 0, 0, 0], size: [r.shape[0], kh, kw, r.shape[3]] });
        dispose(r);
      }
      const out = run(transpose, { x: sliced }, { perm: [1, 2, 0, 3] });
      dispose(sliced);
      return out;
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
  tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName,
    ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as Conv2DAttrs;
      const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
      const info = tf.backend_util.computeConv2DInfo(a.inputShape!, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, format);
      if (format !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return stock.kernelFunc(args);
      const run = runner(backend);
      const dispose = (t: TensorInfo) => (backend as unknown as Backend).disposeData(t.dataId);
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

type WasmBackend = {
  readSync(dataId: object): Float32Array;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
};
type DepthwiseAttrs = Conv2DAttrs & { dilations: [number, number] | number };

/**
 * The depthwise-convolution gradients (MobileNet's blocks), which the wasm backend lacks
 * entirely. Plain loops: a depthwise layer is C*K*K multiply-adds per pixel, small next to
 * the pointwise convolutions that XNNPACK runs.
 */
export function registerDepthwiseGradients(backendName = 'wasm'): void {
  const info = (inShape: number[], filterShape: number[], a: DepthwiseAttrs) =>
    tf.backend_util.computeConv2DInfo(inShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  for (const name of ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as DepthwiseAttrs;
      const b = backend as unknown as WasmBackend;
      const ci = info(a.inputShape!, filter.shape, a);
      const dyv = b.readSync(dy.dataId);
      const w = b.readSync(filter.dataId);
      const [batch, inH, inW, inC] = a.inputShape!;
      const mult = filter.shape[3];
      const dx = new Float32Array(batch * inH * inW * inC);
      const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwid } = ci;
      const { top, left } = ci.padInfo;
      const outC = inC * mult;
      for (let n = 0; n < batch; n++)
        for (let p = 0; p < oh; p++)
          for (let q = 0; q < ow; q++)
            for (let i = 0; i < kh; i++) {
              const y = p * sh + i * dh - top;
              if (y < 0 || y >= inH) continue;
              for (let j = 0; j < kw; j++) {
                const x = q * sw + j * dwid - left;
                if (x < 0 || x >= inW) continue;
                const dxBase = ((n * inH + y) * inW + x) * inC;
                const dyBase = ((n * oh + p) * ow + q) * outC;
                const wBase = (i * kw + j) * inC * mult;
                for (let c = 0; c < inC; c++)
                  for (let m = 0; m < mult; m++) dx[dxBase + c] += dyv[dyBase + c * mult + m] * w[wBase + c * mult + m];
              }
            }
      return b.makeOutput([batch, inH, inW, inC], 'float32', undefined, dx);
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as DepthwiseAttrs;
      const b = backend as unknown as WasmBackend;
      const ci = info(x.shape, a.filterShape!, a);
      const xv = b.readSync(x.dataId);
      const dyv = b.readSync(dy.dataId);
      const [batch, inH, inW, inC] = x.shape;
      const [kh, kw, , mult] = a.filterShape!;
      const dwv = new Float32Array(kh * kw * inC * mult);
      const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwid } = ci;
      const { top, left } = ci.padInfo;
      const outC = inC * mult;
      for (let n = 0; n < batch; n++)
        for (let p = 0; p < oh; p++)
          for (let q = 0; q < ow; q++)
            for (let i = 0; i < kh; i++) {
              const y = p * sh + i * dh - top;
              if (y < 0 || y >= inH) continue;
              for (let j = 0; j < kw; j++) {
                const xx = q * sw + j * dwid - left;
                if (xx < 0 || xx >= inW) continue;
                const xBase = ((n * inH + y) * inW + xx) * inC;
                const dyBase = ((n * oh + p) * ow + q) * outC;
                const wBase = (i * kw + j) * inC * mult;
                for (let c = 0; c < inC; c++)
                  for (let m = 0; m < mult; m++) dwv[wBase + c * mult + m] += xv[xBase + c] * dyv[dyBase + c * mult + m];
              }
            }
      return b.makeOutput([kh, kw, inC, mult], 'float32', undefined, dwv);
    },
  });
}
