import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture.js';
import { activation, add, batchNorm, conv, globalPool, linear, type Seeds, type Tensor } from './torch-layers.js';

/** torchvision.models.resnet: BasicBlock (18, 34) and the v1.5 Bottleneck (stride on the 3x3; 50). */

function basicBlock(x: Tensor, name: string, planes: number, stride: number, seeds: Seeds): Tensor {
  let y = conv(x, `${name}.conv1`, { filters: planes, kernel: 3, stride, padding: 1 }, seeds);
  y = activation(batchNorm(y, `${name}.bn1`), 'relu', `${name}.relu1`);
  y = batchNorm(conv(y, `${name}.conv2`, { filters: planes, kernel: 3, padding: 1 }, seeds), `${name}.bn2`);
  return activation(add(y, shortcut(x, name, planes, stride, seeds), `${name}.add`), 'relu', `${name}.relu`);
}

function bottleneck(x: Tensor, name: string, planes: number, stride: number, seeds: Seeds): Tensor {
  let y = activation(batchNorm(conv(x, `${name}.conv1`, { filters: planes, kernel: 1 }, seeds), `${name}.bn1`), 'relu', `${name}.relu1`);
  y = activation(batchNorm(conv(y, `${name}.conv2`, { filters: planes, kernel: 3, stride, padding: 1 }, seeds), `${name}.bn2`), 'relu', `${name}.relu2`);
  y = batchNorm(conv(y, `${name}.conv3`, { filters: planes * 4, kernel: 1 }, seeds), `${name}.bn3`);
  return activation(add(y, shortcut(x, name, planes * 4, stride, seeds), `${name}.add`), 'relu', `${name}.relu`);
}

function shortcut(x: Tensor, name: string, channels: number, stride: number, seeds: Seeds): Tensor {
  if (stride === 1 && x.shape[3] === channels) return x;
  return batchNorm(conv(x, `${name}.downsample.0`, { filters: channels, kernel: 1, stride }, seeds), `${name}.downsample.1`);
}

function resnet(name: Architecture['name'], blocks: [number, number, number, number], bottlenecked: boolean): Architecture {
  return {
    name,
    recipe: { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    minSize: 32,
    classifierPrefixes: ['fc.'],
    features(input, seeds) {
      let x = conv(input, 'conv1', { filters: 64, kernel: 7, stride: 2, padding: 3 }, seeds);
      x = activation(batchNorm(x, 'bn1'), 'relu', 'relu');
      // Zeros pad like PyTorch's -inf here: the input is a ReLU's, never negative.
      x = tf.layers.zeroPadding2d({ padding: 1, name: 'maxpool.pad' }).apply(x) as Tensor;
      x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(x) as Tensor;
      blocks.forEach((count, stage) => {
        const planes = 64 * 2 ** stage;
        for (let block = 0; block < count; block++) {
          const stride = stage > 0 && block === 0 ? 2 : 1;
          x = (bottlenecked ? bottleneck : basicBlock)(x, `layer${stage + 1}.${block}`, planes, stride, seeds);
        }
      });
      return globalPool(x);
    },
    classifier: (features, classes, seeds) => linear(features, 'fc', classes, seeds),
  };
}

export const resnet18 = resnet('resnet18', [2, 2, 2, 2], false);
export const resnet34 = resnet('resnet34', [3, 4, 6, 3], false);
export const resnet50 = resnet('resnet50', [3, 4, 6, 3], true);
