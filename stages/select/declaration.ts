import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/**
 * A search's selection between rungs (the engine makes one per rung of a `search:` with
 * `method: halving` or `refit:`; see src/spec/search/rungs.ts): it ranks the rung's trials by
 * their mean validation metric over folds and names the ones that go on.
 */
export const declaration: StageDeclaration = {
  name: 'select',
  version: '1',
  description: "ranks a search rung's trials by their mean validation metric and names the best (successive halving, refit)",
  entry: 'select/main.js',
  inputs: {
    runs: { kind: 'dir', description: "the rung's folder: one folder per trial, its fold run folders inside" },
  },
  outputs: {
    selected: { kind: 'file', description: "rung<r>.json: every trial's values, metric per fold and mean, ranked; `promoted`: the trials of the next rung" },
  },
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['rung', 'metric', 'mode', 'keep', 'trials'],
    properties: {
      rung: { type: 'string' },
      metric: { type: 'string', minLength: 1 },
      mode: { enum: ['max', 'min'] },
      keep: { type: 'integer', minimum: 1 },
      trials: { type: 'object', additionalProperties: { type: 'object' } },
      budget: { type: 'object', properties: { param: { type: 'string' }, value: { type: 'number' } } },
    },
  },
  params: { type: 'object' },
};
