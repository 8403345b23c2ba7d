import type { Architecture } from './architecture.js';
import { add, convNormActivation, dropout, globalPool, linear, makeDivisible, squeezeExcitation, type Seeds, type Tensor } from './torch-layers.js';

/**
 * torchvision.models.efficientnet_b0: MBConv blocks (SiLU, squeeze-excitation), batch norm eps
 * 1e-5. Stochastic depth (torchvision drops whole residual branches with p up to 0.2 while
 * training) is left out: identity, as in evaluation, so that training stays deterministic.
 */

/** expand ratio, kernel, stride, input, out, layers (torchvision's bneck_conf rows for B0). */
const B0: [number, number, number, number, number, number][] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

function mbConv(x: Tensor, name: string, ratio: number, kernel: number, stride: number, input: number, out: number, seeds: Seeds): Tensor {
  const expanded = makeDivisible(input * ratio);
  let y = x;
  let index = 0;
  if (expanded !== input) y = convNormActivation(y, `${name}.block.${index++}`, { filters: expanded, kernel: 1 }, 'swish', seeds);
  y = convNormActivation(y, `${name}.block.${index++}`, { filters: expanded, kernel, stride, depthwise: true }, 'swish', seeds);
  y = squeezeExcitation(y, `${name}.block.${index++}`, Math.max(1, Math.floor(input / 4)), 'sigmoid', 'swish', seeds);
  y = convNormActivation(y, `${name}.block.${index++}`, { filters: out, kernel: 1 }, undefined, seeds);
  return stride === 1 && input === out ? add(y, x, `${name}.add`) : y;
}

export const efficientnetB0: Architecture = {
  name: 'efficientnet_b0',
  recipe: { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  minSize: 32,
  classifierPrefixes: ['classifier.1.'],
  features(input, seeds) {
    let x = convNormActivation(input, 'features.0', { filters: 32, kernel: 3, stride: 2 }, 'swish', seeds);
    B0.forEach(([ratio, kernel, stride, input, out, layers], stage) => {
      for (let j = 0; j < layers; j++) x = mbConv(x, `features.${stage + 1}.${j}`, ratio, kernel, j === 0 ? stride : 1, j === 0 ? input : out, out, seeds);
    });
    x = convNormActivation(x, 'features.8', { filters: 1280, kernel: 1 }, 'swish', seeds);
    return dropout(globalPool(x), 0.2, 'classifier.0', seeds);
  },
  classifier: (features, classes, seeds) => linear(features, 'classifier.1', classes, seeds),
};
