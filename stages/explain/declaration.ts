import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: explain` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'explain',
  version: '1',
  description: "where an experiment's fold models look: Grad-CAM or occlusion maps of its hardest errors and a sample per class x source, and the share inside the face",
  entry: 'explain/main.js',
  inputs: {
    runs: { kind: 'dir', description: "the experiment's fold*/ run folders (model.json, oof.csv)" },
    splits: { kind: 'file', description: 'splits.json from split (which images each fold validated on)' },
    dataset: { kind: 'dir', description: 'the dataset the splits index' },
    cropped: { kind: 'dir', required: false, description: "facecrop's output: crops.json's face boxes (without it the detector runs on the selection), and the images when data.input is cropped" },
  },
  outputs: {
    explain: { kind: 'dir', description: 'explanations.json, inputs/*.png, heatmaps/*.png' },
  },
  metrics: [{ output: 'explain', file: 'explanations.json' }],
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      experiment: { type: 'string', minLength: 1, description: 'the experiment named in the outputs (default: the runs folder name)' },
      method: { enum: ['gradcam', 'occlusion'], description: "gradcam (default for a network; needs a convolutional feature map) or occlusion (model-agnostic: any saved model, the baseline probe's included)" },
      layer: { type: 'string', minLength: 1, description: 'Grad-CAM: the layer whose feature map is explained (default: the one the final pooling reads)' },
      errors: { type: 'integer', minimum: 0, default: 8, description: 'the hardest false positives and as many false negatives (multi-class, regression: twice as many errors)' },
      per_group: { type: 'integer', minimum: 0, default: 3, description: 'images per class x source (per source for regression), beside the errors' },
      patch: { type: 'integer', minimum: 1, description: "occlusion: the patch's edge in input pixels (default: an eighth of the input)" },
    },
  },
  params: {
    type: 'object',
    description: "the experiment's config, as its trainer read it (explain uses data.size, data.input, data.eval_geometry, data.target, train.normalization, model.arch, probe.pixels; its trainer checks every key)",
    additionalProperties: true,
    properties: {
      seed: { type: 'integer' },
      model: { type: 'object', properties: { arch: { type: 'string' } }, additionalProperties: true },
      data: { type: 'object', additionalProperties: true },
      train: { type: 'object', additionalProperties: true },
      probe: { type: 'object', additionalProperties: true },
      task: { enum: ['binary', 'multiclass', 'regression'] },
    },
  },
};
