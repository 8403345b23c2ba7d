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

/** `data:` as every trainer of one fold reads it (runtime/fold-data.ts's FoldDataParams). */
export const foldDataProperties: Record<string, Record<string, unknown>> = {
  input: { enum: ['raw', 'cropped'], default: 'raw' },
  fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
  holdout_source: { type: 'string' },
  eval_geometry: { enum: ['same', 'letterbox'], default: 'same' },
  target: { type: 'string', minLength: 1, description: 'what to predict: label (default), source (attribute each image to its source), or another manifest column (numeric: regression)' },
};
