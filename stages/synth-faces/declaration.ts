import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: synth-faces` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'synth-faces',
  version: '5',
  description: 'a generated real-vs-fake faces dataset (manifest.csv + images)',
  entry: 'synth-faces/main.js',
  inputs: {},
  outputs: {
    dataset: { kind: 'dir', description: 'the generated images and manifest.csv' },
  },
  options: { type: 'object', additionalProperties: false },
  params: {
  type: 'object',
  required: ['seed', 'data'],
  properties: {
    seed: { type: 'integer' },
    data: {
      type: 'object',
      properties: {
        identities: { type: 'integer', minimum: 2, default: 40 },
        real_per_identity: { type: 'integer', minimum: 1, default: 3 },
        fake_per_identity: { type: 'integer', minimum: 1, default: 3 },
        size: { type: 'integer', minimum: 16, maximum: 512, default: 64 },
        geometry_shortcut: { type: 'boolean', default: true },
      },
    },
  },
},
};
