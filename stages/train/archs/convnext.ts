import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture.js';
import { activation, add, conv, globalPool, LayerScale, linear, type Seeds, type Tensor } from './torch-layers.js';

/**
 * torchvision.models.convnext_tiny: a 4x4 patchify stem, blocks of depthwise 7x7 -> LayerNorm ->
 * Linear x4 -> GELU -> Linear, a learnt layer scale, LayerNorm + 2x2 convolutions between stages.
 * NHWC is already channels-last, so torch's permutes around the Linear layers vanish. Stochastic
 * depth is left out (identity, as in evaluation): training stays deterministic.
 */

const STAGES: [number, number][] = [
  [96, 3],
  [192, 3],
  [384, 9],
  [768, 3],
];

const layerNorm = (x: Tensor, name: string) => tf.layers.layerNormalization({ axis: -1, epsilon: 1e-6, name }).apply(x) as Tensor;

function block(x: Tensor, name: string, dim: number, seeds: Seeds): Tensor {
  let y = conv(x, `${name}.block.0`, { filters: dim, kernel: 7, padding: 3, depthwise: true, bias: true }, seeds);
  y = layerNorm(y, `${name}.block.2`);
  y = activation(linear(y, `${name}.block.3`, 4 * dim, seeds), 'gelu', `${name}.block.4`);
  y = linear(y, `${name}.block.5`, dim, seeds);
  y = new LayerScale({ name }).apply(y) as Tensor;
  return add(y, x, `${name}.add`);
}

export const convnextTiny: Architecture = {
  name: 'convnext_tiny',
  recipe: { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  minSize: 32,
  classifierPrefixes: ['classifier.2.'],
  features(input, seeds) {
    let x = conv(input, 'features.0.0', { filters: 96, kernel: 4, stride: 4, bias: true }, seeds);
    x = layerNorm(x, 'features.0.1');
    STAGES.forEach(([dim, layers], stage) => {
      for (let j = 0; j < layers; j++) x = block(x, `features.${2 * stage + 1}.${j}`, dim, seeds);
      if (stage < STAGES.length - 1) {
        x = layerNorm(x, `features.${2 * stage + 2}.0`);
        x = conv(x, `features.${2 * stage + 2}.1`, { filters: STAGES[stage + 1][0], kernel: 2, stride: 2, bias: true }, seeds);
      }
    });
    // classifier.0, its LayerNorm, belongs to the backbone: fine-tuning replaces classifier.2 only.
    return layerNorm(globalPool(x), 'classifier.0');
  },
  classifier: (features, classes, seeds) => linear(features, 'classifier.2', classes, seeds),
};
