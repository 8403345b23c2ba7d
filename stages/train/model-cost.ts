import type * as tf from '@tensorflow/tfjs';

/**
 * What a model costs per image, counted from its layers' shapes: multiply-adds of its
 * convolutions and dense layers (torchvision's and fvcore's "FLOPs": one fused multiply-add
 * counts once; activations, norms and pooling are left out, as they are there), and the bytes
 * of its float32 weights (what weights.bin holds).
 */
export interface ModelCost {
  flops: number;
  weights_bytes: number;
}

const product = (dims: readonly (number | null)[]) => dims.reduce<number>((a, b) => a * (b ?? 1), 1);

function layerFlops(layer: tf.layers.Layer): number {
  const kernel = layer.weights.find((w) => /(^|\/)(kernel|depthwise_kernel)$/.test(w.originalName));
  if (!kernel) return 0;
  const output = layer.outputShape as (number | null)[];
  const className = layer.getClassName();
  // Each output element is one dot product over the kernel's input side.
  if (className === 'Conv2D') return product(output.slice(1)) * product(kernel.shape.slice(0, 3));
  if (className === 'DepthwiseConv2D') return product(output.slice(1)) * product(kernel.shape.slice(0, 2));
  if (className === 'Dense') return product(output.slice(1)) * kernel.shape[0]!;
  return 0;
}

export function modelCost(model: tf.LayersModel): ModelCost {
  return {
    flops: model.layers.reduce((n, layer) => n + layerFlops(layer), 0),
    weights_bytes: model.weights.reduce((n, w) => n + product(w.shape) * 4, 0),
  };
}
