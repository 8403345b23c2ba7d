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
