import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What every trainer of one fold reads (train, baseline): the split, the images, optionally their face crops. */
export const trainerInputs: StageDeclaration['inputs'] = {
  splits: { kind: 'file', description: 'splits.json from split' },
  dataset: { kind: 'dir', description: 'the dataset the splits index' },
  cropped: { kind: 'dir', required: false, description: 'face crops of the same images (read when data.input is cropped)' },
};

/** `with: { fold }`: which fold a trainer validates on. */
export const foldOptions: StageDeclaration['options'] = {
  type: 'object',
  additionalProperties: false,
  required: ['fold'],
  properties: { fold: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+$' }] } },
};
