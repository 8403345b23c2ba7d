import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sha256File } from '../../../src/hash/sha256.js';
import { StageError } from '../../runtime/stage.js';
import { readStateDict, WeightsFileError } from '../weights/state-dict.js';
import type { Backbone } from '../backbone.js';
import type { Architecture } from './architecture.js';
import { describeMismatch, loadStateDict, WeightsMismatchError } from './torch-weights.js';

/** A torchvision architecture as a backbone: weights from a .pth/.safetensors state_dict. */
export function torchvisionBackbone(arch: Architecture): Backbone {
  return {
    name: arch.name,
    recipe: arch.recipe,
    minSize: arch.minSize,
    async build(size, seeds) {
      const input = tf.input({ shape: [size, size, 3], name: 'image' });
      return { input, features: arch.features(input, seeds) };
    },
    load(backbone, weights, strict) {
      let report;
      try {
        report = loadStateDict(backbone, readStateDict(weights), { strict, ignorePrefixes: arch.classifierPrefixes, shown: `model.weights ${weights}` });
      } catch (error) {
        if (error instanceof WeightsFileError || error instanceof WeightsMismatchError) throw new StageError(`${(error as Error).message} (model.arch: ${arch.name})`);
        throw error;
      }
      let loaded = `${arch.name}: ${report.loaded} tensors from ${weights}`;
      if (report.missing.length || report.unexpected.length || report.mismatched.length) loaded += `; not loaded (model.weights_strict: false): ${describeMismatch(report, path.basename(weights))}`;
      return loaded;
    },
    weightsDigest: (weights) => sha256File(weights),
  };
}
