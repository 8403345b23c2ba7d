import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/**
 * Metrics where higher is better and 1 is perfect, of any task: their error is 1 - metric
 * (binary; multi-class macro AUC and F1; regression R², whose 1 - R² is the error relative to
 * the target's variance).
 */
export const SUFFICIENCY_METRICS = ['auc', 'pr_auc', 'accuracy', 'balanced_accuracy', 'f1', 'auc_ovr_macro', 'f1_macro', 'f1_weighted', 'r2'] as const;

/** What the engine checks a `uses: sufficiency` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'sufficiency',
  version: '1',
  description: 'learning curves per model over training-set size: fit, projection, the n a target needs',
  entry: 'sufficiency/main.js',
  inputs: {
    runs: { kind: 'dir', description: 'the run folders (fold*/metrics.json with n_train)' },
    configs: { kind: 'dir', description: 'the experiment configs; configs/study.yaml gives each its model and data fraction' },
  },
  outputs: {
    sufficiency: { kind: 'dir', description: 'sufficiency.json and sufficiency.svg' },
  },
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      metric: { enum: [...SUFFICIENCY_METRICS], default: 'auc', description: 'fitted as error = 1 - metric' },
      project: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'training-set sizes to project the metric to (default: 2x, 4x and 10x the largest seen)' },
      targets: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, default: [0.9, 0.95, 0.99], description: 'metric values to find the training-set size for' },
    },
  },
  params: { type: 'object' },
};
