import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture.js';
import { Seeds } from './torch-layers.js';

/** The architecture as torchvision builds it, classifier included (`num_classes` outputs, logits): what the fixtures compare. */
export function buildTorchvisionModel(arch: Architecture, size: number, classes: number, seed = 0): tf.LayersModel {
  const seeds = new Seeds(seed * 1000);
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  const output = arch.classifier(arch.features(input, seeds), classes, seeds);
  return tf.model({ inputs: input, outputs: output, name: arch.name });
}
