import type * as tf from '@tensorflow/tfjs';
import type { Recipe } from './archs/architecture.js';
import type { Seeds } from './archs/torch-layers.js';

/**
 * A network `train` puts the task's head on: a torchvision architecture (weights from the
 * researcher's state_dict) or one that ships in an npm package (npm-backbones/). One model.arch
 * each; `pretrained-net.ts` adds the head, the freezing and the learning-rate groups.
 */
export interface Backbone {
  /** model.arch */
  name: string;
  /** Input size and normalisation it was trained with (what train uses unless the config says otherwise). */
  recipe: Recipe;
  /** The smallest input edge its downsampling takes. */
  minSize: number;
  /** The image input and the pooled feature vector, with random weights. */
  build(size: number, seeds: Seeds): Promise<{ input: tf.SymbolicTensor; features: tf.SymbolicTensor }>;
  /** Puts the pretrained weights (model.weights) onto the built backbone; a line for the log. Errors are StageErrors naming the file or package. */
  load(backbone: tf.LayersModel, weights: string, strict: boolean): string;
  /** Names those weights' content for the feature cache. */
  weightsDigest(weights: string): string;
}
