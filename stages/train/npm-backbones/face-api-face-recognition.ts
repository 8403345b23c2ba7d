import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbone.js';
import type { Seeds } from '../archs/torch-layers.js';
import { decodeWeights, packageDir, setNamedWeights } from './package-files.js';

/**
 * The face descriptor network of @vladmandic/face-api (MIT): dlib's face recognition ResNet
 * (dlib_face_recognition_resnet_model_v1, trained by Davis King on ~3M faces of ~7.5k
 * identities for face identity, 99.38% on LFW), at 150 px, to face-api's 128-d descriptor.
 * Built here as tf.layers, layer for layer as face-api's FaceRecognitionNet computes it, with
 * each conv's per-channel scale folded into its kernel and bias (exact up to rounding). A
 * shortcut that halves the size is average pooling, zero-padded in channels (and by one row
 * and column where the strided conv's output is smaller), as face-api does.
 */

const PACKAGE = '@vladmandic/face-api';
const MODEL = 'face_recognition_model';
type T = tf.SymbolicTensor;

function conv(x: T, name: string, filters: number, stride: 1 | 2, relu: boolean, seeds: Seeds, kernel = 3): T {
  const y = tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: stride === 2 ? 'valid' : 'same', kernelInitializer: tf.initializers.heNormal({ seed: seeds.take() }), name }).apply(x) as T;
  return relu ? (tf.layers.reLU({ name: `${name}.relu` }).apply(y) as T) : y;
}

function residual(x: T, name: string, seeds: Seeds): T {
  const filters = x.shape[3]!;
  const y = conv(conv(x, `${name}.conv1`, filters, 1, true, seeds), `${name}.conv2`, filters, 1, false, seeds);
  return tf.layers.reLU({ name: `${name}.relu` }).apply(tf.layers.add({ name: `${name}.add` }).apply([y, x])) as T;
}

function residualDown(x: T, name: string, filters: number, seeds: Seeds): T {
  let y = conv(conv(x, `${name}.conv1`, filters, 2, true, seeds), `${name}.conv2`, filters, 1, false, seeds);
  let shortcut = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${name}.pool` }).apply(x) as T;
  const short = shortcut.shape[1]! - y.shape[1]!;
  if (short > 0) y = tf.layers.zeroPadding2d({ padding: [[0, short], [0, short]], name: `${name}.pad` }).apply(y) as T;
  const channels = shortcut.shape[3]!;
  if (channels < filters) {
    // Zero channels after the pooled ones: tfjs has no channel padding, so pad the channel axis moved into a spatial place.
    const moved = tf.layers.permute({ dims: [3, 2, 1], name: `${name}.to_channels` }).apply(shortcut) as T;
    const padded = tf.layers.zeroPadding2d({ padding: [[0, filters - channels], [0, 0]], name: `${name}.zeros` }).apply(moved) as T;
    shortcut = tf.layers.permute({ dims: [3, 2, 1], name: `${name}.from_channels` }).apply(padded) as T;
  }
  return tf.layers.reLU({ name: `${name}.relu` }).apply(tf.layers.add({ name: `${name}.add` }).apply([shortcut, y])) as T;
}

function modelFiles(weights: string): { manifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; dir: string; version: string } {
  const { dir, version } = packageDir(PACKAGE, weights);
  const folder = path.join(dir, 'model');
  return { manifest: JSON.parse(readFileSync(path.join(folder, `${MODEL}-weights_manifest.json`), 'utf8')), dir: folder, version };
}

export const faceApiFaceRecognition: Backbone = {
  name: 'dlib_face_resnet',
  recipe: { size: 150, mean: [122.782 / 255, 117.001 / 255, 104.298 / 255], std: [1, 1, 1] },
  minSize: 131,
  async build(size, seeds) {
    const input = tf.input({ shape: [size, size, 3], name: 'image' });
    let x = conv(input, 'conv32_down', 32, 2, true, seeds, 7);
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool' }).apply(x) as T;
    for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(x, block, seeds);
    x = residualDown(x, 'conv64_down', 64, seeds);
    for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(x, block, seeds);
    x = residualDown(x, 'conv128_down', 128, seeds);
    for (const block of ['conv128_1', 'conv128_2']) x = residual(x, block, seeds);
    x = residualDown(x, 'conv256_down', 256, seeds);
    for (const block of ['conv256_1', 'conv256_2']) x = residual(x, block, seeds);
    x = residualDown(x, 'conv256_down_out', 256, seeds);
    x = tf.layers.globalAveragePooling2d({ name: 'avg' }).apply(x) as T;
    const features = tf.layers.dense({ units: 128, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }), name: 'fc' }).apply(x) as T;
    return { input, features };
  },
  load(backbone, weights, strict) {
    const { manifest, dir, version } = modelFiles(weights);
    const data = Buffer.concat(manifest.flatMap((group) => group.paths.map((p) => readFileSync(path.join(dir, p)))));
    const raw = decodeWeights(data, manifest.flatMap((group) => group.weights));
    const named = new Map<string, tf.Tensor>();
    // conv -> +bias -> *scale -> +shift is one conv with kernel*scale and bias*scale+shift.
    for (const key of Object.keys(raw).filter((k) => k.endsWith('/conv/filters'))) {
      const module = key.slice(0, -'/conv/filters'.length);
      const [filters, bias, scale, shift] = ['conv/filters', 'conv/bias', 'scale/weights', 'scale/biases'].map((w) => raw[`${module}/${w}`]!);
      const layer = module.replace(/\//g, '.');
      named.set(`${layer}/kernel`, tf.mul(filters!, scale!));
      named.set(`${layer}/bias`, tf.add(tf.mul(bias!, scale!), shift!));
    }
    named.set('fc/kernel', raw['fc']!.clone());
    tf.dispose(Object.values(raw));
    const { loaded } = setNamedWeights(backbone, named, weights, strict);
    return `dlib_face_resnet: ${loaded} tensors from ${weights} (face-api ${version}; dlib's face identity ResNet, 128-d descriptor)`;
  },
  weightsDigest: (weights) => `${weights}@${modelFiles(weights).version}`,
};
