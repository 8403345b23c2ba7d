import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';
import { foldDataProperties, foldOptions, trainerInputs } from '../runtime/trainer-ports.js';

/** What the engine checks a `uses: baseline` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'baseline',
  version: '1',
  description: 'a linear probe on downsampled pixels (logistic regression; one-vs-rest for multi-class; ridge for regression), one fold, in the format train writes',
  entry: 'baseline/main.js',
  inputs: trainerInputs,
  outputs: {
    run: { kind: 'dir', description: 'model.json (scaler and coefficients), history.json, oof.csv, metrics.json' },
  },
  metrics: [{ output: 'run', file: 'metrics.json' }],
  options: foldOptions,
  params: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        default: {},
        properties: foldDataProperties,
      },
      probe: {
        type: 'object',
        default: {},
        properties: {
          pixels: { type: 'integer', minimum: 2, maximum: 64, default: 12, description: 'images are resized to pixels x pixels RGB' },
          C: { type: 'number', exclusiveMinimum: 0, default: 1, description: "inverse L2 strength, scikit-learn's C" },
          alpha: { type: 'number', exclusiveMinimum: 0, default: 1, description: "regression targets: ridge strength, scikit-learn's Ridge alpha" },
        },
      },
    },
  },
};
