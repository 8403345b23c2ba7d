import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbone.js';
import { StageError } from '../../runtime/stage.js';
import { decodeWeights, packageDir, setNamedWeights, umdExport } from './package-files.js';

/**
 * Keras's MobileNetV2 (alpha 1, 224 px) as nsfwjs@4 ships it (MIT): Keras's ImageNet weights
 * in blocks 0-10, blocks 11-16 and the head fine-tuned by nsfwjs on its own five-class image
 * task. The package's own graph (a Keras 2.2.4 LayersModel) up to `out_relu`, then global
 * average pooling in place of its 7x7 pooling, Flatten and dense head, so any input size
 * pools to the 1280 features. Normalisation: nsfwjs's (pixels / 255), which its fine-tuned
 * blocks were trained on.
 */

const PACKAGE = 'nsfwjs';
const LAST_LAYER = 'out_relu';

interface KerasLayer {
  name: string;
  class_name: string;
  config: { name: string; batch_input_shape?: (number | null)[] };
  inbound_nodes: unknown[];
}
interface ModelFile {
  modelTopology: { model_config: { config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[] } } };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function modelFile(weights: string): { file: ModelFile; dir: string; version: string } {
  const { dir, version } = packageDir(PACKAGE, weights);
  const folder = path.join(dir, 'dist', 'models', 'mobilenet_v2');
  const file = umdExport(path.join(folder, 'model.min.js')) as ModelFile;
  if (!file?.modelTopology?.model_config) throw new StageError(`model.weights ${weights}: ${folder}/model.min.js is not the Keras model nsfwjs@4 ships (nsfwjs ${version} installed)`);
  return { file, dir: folder, version };
}

export const nsfwjsMobilenetV2: Backbone = {
  name: 'mobilenet_v2',
  recipe: { size: 224, mean: [0, 0, 0], std: [1, 1, 1] },
  minSize: 32,
  async build(size) {
    const { file } = modelFile(`npm:${PACKAGE}/mobilenet_v2`);
    const config = structuredClone(file.modelTopology.model_config);
    const layers = config.config.layers;
    const last = layers.findIndex((l) => l.config.name === LAST_LAYER);
    const kept = layers.slice(0, last + 1);
    kept[0]!.config.batch_input_shape = [null, size, size, 3];
    kept.push({ name: 'features', class_name: 'GlobalAveragePooling2D', config: { name: 'features' }, inbound_nodes: [[[LAST_LAYER, 0, 0, {}]]] });
    config.config.layers = kept;
    config.config.output_layers = [['features', 0, 0]];
    const model = await tf.models.modelFromJSON({ modelTopology: { ...file.modelTopology, model_config: config } as unknown as tf.io.ModelJSON['modelTopology'] });
    return { input: model.inputs[0]!, features: model.outputs[0]! };
  },
  load(backbone, weights, strict) {
    const { file, dir, version } = modelFile(weights);
    const group = file.weightsManifest[0]!;
    const base64 = umdExport(path.join(dir, `${group.paths[0]}.min.js`));
    if (typeof base64 !== 'string') throw new StageError(`model.weights ${weights}: ${dir}/${group.paths[0]}.min.js holds no weights`);
    const named = new Map(Object.entries(decodeWeights(Buffer.from(base64, 'base64'), group.weights)));
    const { loaded } = setNamedWeights(backbone, named, weights, strict);
    return `mobilenet_v2: ${loaded} tensors from ${weights} (nsfwjs ${version}; Keras ImageNet blocks 0-10, nsfwjs-tuned 11-16)`;
  },
  weightsDigest: (weights) => `${weights}@${modelFile(weights).version}`,
};
