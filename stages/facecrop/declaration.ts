import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: facecrop` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'facecrop',
  version: '2',
  description: 'face detection and square crops with a recorded fallback',
  entry: 'facecrop/main.js',
  inputs: {
    dataset: { kind: 'dir', description: 'a dataset folder with manifest.csv' },
  },
  outputs: {
    cropped: { kind: 'dir', description: 'the cropped dataset, with crops.json' },
  },
  options: { type: 'object', additionalProperties: false },
  params: {
  type: 'object',
  required: ['facecrop'],
  properties: {
    facecrop: {
      type: 'object',
      properties: {
        margin: { type: 'number', minimum: 0, default: 0.25 },
        size: { type: 'integer', minimum: 8, default: 48 },
        min_score: { type: 'number', minimum: 0, maximum: 1, default: 0.3 },
        input_size: { type: 'integer', minimum: 32, default: 160 },
      },
    },
  },
},
};
