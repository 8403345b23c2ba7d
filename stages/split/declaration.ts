import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: split` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'split',
  version: '1',
  description: 'stratified, group-aware k-fold split with nested subsamples',
  entry: 'split/main.js',
  inputs: {
    dataset: { kind: 'dir', description: 'a dataset folder with manifest.csv' },
  },
  outputs: {
    splits: { kind: 'file', description: 'splits.json' },
  },
  options: { type: 'object', additionalProperties: false },
  params: {
  type: 'object',
  required: ['seed', 'cv'],
  properties: {
    seed: { type: 'integer' },
    cv: {
      type: 'object',
      properties: { folds: { type: 'integer', minimum: 2, default: 5 }, stratify: { enum: ['label', 'label_source'], default: 'label' } },
    },
  },
},
};
