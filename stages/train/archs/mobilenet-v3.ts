import type { Architecture } from './architecture.js';
import { activation, add, convNormActivation, dropout, globalPool, linear, makeDivisible, squeezeExcitation, type Seeds, type Tensor } from './torch-layers.js';

/** torchvision.models.mobilenetv3: inverted residuals with squeeze-excitation and hardswish; batch norm eps 1e-3, momentum 0.01. */

/** input, kernel, expanded, out, squeeze-excitation, hardswish, stride (torchvision's bneck_conf rows). */
type Row = [number, number, number, number, boolean, boolean, number];

const SMALL: Row[] = [
  [16, 3, 16, 16, true, false, 2],
  [16, 3, 72, 24, false, false, 2],
  [24, 3, 88, 24, false, false, 1],
  [24, 5, 96, 40, true, true, 2],
  [40, 5, 240, 40, true, true, 1],
  [40, 5, 240, 40, true, true, 1],
  [40, 5, 120, 48, true, true, 1],
  [48, 5, 144, 48, true, true, 1],
  [48, 5, 288, 96, true, true, 2],
  [96, 5, 576, 96, true, true, 1],
  [96, 5, 576, 96, true, true, 1],
];

const LARGE: Row[] = [
  [16, 3, 16, 16, false, false, 1],
  [16, 3, 64, 24, false, false, 2],
  [24, 3, 72, 24, false, false, 1],
  [24, 5, 72, 40, true, false, 2],
  [40, 5, 120, 40, true, false, 1],
  [40, 5, 120, 40, true, false, 1],
  [40, 3, 240, 80, false, true, 2],
  [80, 3, 200, 80, false, true, 1],
  [80, 3, 184, 80, false, true, 1],
  [80, 3, 184, 80, false, true, 1],
  [80, 3, 480, 112, true, true, 1],
  [112, 3, 672, 112, true, true, 1],
  [112, 5, 672, 160, true, true, 2],
  [160, 5, 960, 160, true, true, 1],
  [160, 5, 960, 160, true, true, 1],
];

const NORM = { eps: 1e-3, momentum: 0.01 };

function invertedResidual(x: Tensor, name: string, [input, kernel, expanded, out, se, hardswish, stride]: Row, seeds: Seeds): Tensor {
  const act = hardswish ? 'hardswish' : 'relu';
  let y = x;
  let index = 0;
  if (expanded !== input) y = convNormActivation(y, `${name}.block.${index++}`, { filters: expanded, kernel: 1, ...NORM }, act, seeds);
  y = convNormActivation(y, `${name}.block.${index++}`, { filters: expanded, kernel, stride, depthwise: true, ...NORM }, act, seeds);
  if (se) y = squeezeExcitation(y, `${name}.block.${index++}`, makeDivisible(Math.floor(expanded / 4)), 'hardsigmoid', 'relu', seeds);
  y = convNormActivation(y, `${name}.block.${index++}`, { filters: out, kernel: 1, ...NORM }, undefined, seeds);
  return stride === 1 && input === out ? add(y, x, `${name}.add`) : y;
}

function mobilenetV3(name: 'mobilenet_v3_small' | 'mobilenet_v3_large', rows: Row[], lastChannel: number): Architecture {
  return {
    name,
    recipe: { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    minSize: 32,
    classifierPrefixes: ['classifier.3.'],
    features(input, seeds) {
      let x = convNormActivation(input, 'features.0', { filters: rows[0][0], kernel: 3, stride: 2, ...NORM }, 'hardswish', seeds);
      rows.forEach((row, i) => (x = invertedResidual(x, `features.${i + 1}`, row, seeds)));
      x = convNormActivation(x, `features.${rows.length + 1}`, { filters: 6 * rows[rows.length - 1][3], kernel: 1, ...NORM }, 'hardswish', seeds);
      x = globalPool(x);
      // torchvision's classifier up to its last Linear is part of the backbone: fine-tuning replaces classifier.3 only.
      x = activation(linear(x, 'classifier.0', lastChannel, seeds), 'hardswish', 'classifier.1');
      return dropout(x, 0.2, 'classifier.2', seeds);
    },
    classifier: (features, classes, seeds) => linear(features, 'classifier.3', classes, seeds),
  };
}

export const mobilenetV3Small = mobilenetV3('mobilenet_v3_small', SMALL, 1024);
export const mobilenetV3Large = mobilenetV3('mobilenet_v3_large', LARGE, 1280);
