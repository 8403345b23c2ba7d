/**
 * Sum over leading axes (a bias gradient: dy [N,H,W,C] summed to [C]) as our wasm kernel
 * (kernels/reduce.c), in double precision. The wasm backend transposes the reduced axes
 * innermost first, which cost 31 ms for one 32x64x64x32 gradient (a JavaScript row loop, 7 ms).
 * Other reductions keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, offsetOf, type TensorInfo } from './heap.js';
import { kernelsFor } from './kernel-module.js';
import { kernel, replaceKernel } from '../kernel-util.js';

export function registerLeadingAxesSum(backendName = 'wasm'): void {
  const stock = kernel('Sum', backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => {
      const { x } = args.inputs as unknown as { x: TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
      const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((ax, i) => ax === i);
      if (x.dtype !== 'float32' || !leading) return stock.kernelFunc(args);
      const b = asWasm(args.backend);
      const kept = x.shape.slice(axes.length);
      const width = tf.util.sizeFromShape(kept);
      const rows = tf.util.sizeFromShape(x.shape) / width;
      const shape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
      const out = b.makeOutput(shape, 'float32');
      kernelsFor(b).run('sum_leading', offsetOf(b, x), offsetOf(b, out), rows, width);
      return out;
    },
  });
}

/**
 * Identity without a copy, as the cpu backend does it: the wasm kernel copied the tensor, and
 * the engine clones every tensor it saves for the backward pass (9 ms a step here). Safe
 * because no kernel writes into its inputs.
 */
export function registerAliasingIdentity(backendName = 'wasm'): void {
  const stock = kernel('Identity', backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => {
      const { x } = args.inputs as unknown as { x: TensorInfo };
      if (x.dtype === 'string') return stock.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
