import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: report` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'report',
  version: '10',
  description: 'the HTML + Markdown report over every experiment',
  entry: 'report/main.js',
  inputs: {
    results: { kind: 'dir', description: 'the results folder (one JSON per experiment)' },
    eda: { kind: 'dir', description: 'the EDA folder' },
    configs: { kind: 'dir', description: 'the experiment configs (configs/study.yaml names baselines)' },
    runs: { kind: 'dir', description: 'the run folders (predictions, histories)' },
    dataset: { kind: 'dir', required: false, description: 'the dataset (images for the hardest-errors grid)' },
    sufficiency: { kind: 'dir', required: false, description: 'a sufficiency stage\'s folder: adds the data-sufficiency section' },
    explain: { kind: 'dir', required: false, description: "an explain stage's folder (one explanations.json per experiment): adds where each network looks, per phase" },
    searches: { kind: 'dir', required: false, description: "the searches' selections (outputs/search: rung<r>.json, best.json per search): adds the hyperparameter-search section" },
    since: { kind: 'file', required: false, description: 'a `pipeline metrics diff REV --json` of the results: adds an AUC-since-REV column' },
  },
  outputs: {
    report: { kind: 'dir', description: 'index.html and report.md' },
  },
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      since: { type: 'string', minLength: 1, description: 'how to name the revision the since input compares with (HEAD, main, v1)' },
      inference_ms: { type: 'boolean', description: "adds each model's measured inference time per image to the cost table (a measurement of this machine: reruns differ; default false)" },
      compare: {
        type: 'array',
        items: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 2, maxItems: 2 },
        description: 'pairs of experiments to compare metric by metric, e.g. [[p1_cnn, tune_best]]: both values, the change, the relative change and the corrected t-test',
      },
      groups: {
        type: 'array',
        description: "an experiment's target across the groups of a column: [{ experiment: p1_cnn, by: light, edges: [-0.1, 0.1] }] (edges or bins: n equal-count bins, default 4; a text column groups by value; `exp:target` for one target of several)",
        items: {
          type: 'object',
          required: ['experiment', 'by'],
          additionalProperties: false,
          properties: { experiment: { type: 'string', minLength: 1 }, by: { type: 'string', minLength: 1 }, edges: { type: 'array', items: { type: 'number' }, minItems: 1 }, bins: { type: 'integer', minimum: 2, maximum: 20 } },
        },
      },
      bins: { type: 'integer', minimum: 2, maximum: 20, description: 'equal-count bins per image property in the errors-by-property section (default 4)' },
      property_bins: {
        type: 'object',
        propertyNames: { enum: ['width', 'height', 'aspect', 'luminance', 'contrast', 'sharpness', 'jpeg_quality', 'noise', 'high_frequency', 'blockiness', 'brisque'] },
        additionalProperties: { type: 'array', items: { type: 'number' }, minItems: 1 },
        description: 'inner bin edges for a property instead of quantiles, e.g. { luminance: [0.3, 0.5] }',
      },
    },
  },
  params: { type: 'object' },
};
