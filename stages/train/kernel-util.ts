/** Helpers for kernels (wasm and webgpu) that call other kernels of the same backend directly (no tape, no engine). */
import * as tf from '@tensorflow/tfjs';
type TensorInfo = tf.TensorInfo;

export type Conv2DAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
};

export type Run = (kernel: tf.KernelConfig, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) => TensorInfo;

export function runner(backend: unknown): Run {
  return (kernel, inputs, attrs) =>
    kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: backend as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

export function kernel(name: string, backendName: string): tf.KernelConfig {
  const k = tf.getKernel(name, backendName);
  if (!k) throw new Error(`backend ${backendName} has no ${name} kernel`);
  return k;
}

/** Registers `config`, replacing the backend's own kernel of that name if it has one. */
export function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * Replaces the backend's `name` kernel with `ours`, which returns undefined for the cases it
 * does not handle (another data format, dilations): those still go to the kernel it replaced.
 */
export function replaceKeepingFallback<I, A>(name: string, backendName: string, ours: (inputs: I, attrs: A, backend: tf.KernelBackend) => TensorInfo | undefined): void {
  const stock = kernel(name, backendName);
  replaceKernel({
    ...stock,
    kernelFunc: (args) => ours(args.inputs as unknown as I, args.attrs as unknown as A, args.backend as tf.KernelBackend) ?? stock.kernelFunc(args),
  });
}
