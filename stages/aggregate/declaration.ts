import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: aggregate` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'aggregate',
  version: '3',
  description: 'per-experiment means and intervals over folds',
  entry: 'aggregate/main.js',
  inputs: {
    runs: { kind: 'dir', description: "the experiment's fold*/ run folders" },
  },
  outputs: {
    results: { kind: 'file', description: 'the results JSON' },
  },
  metrics: [{ output: 'results' }],
  options: { type: 'object', additionalProperties: false, properties: { experiment: { type: 'string', minLength: 1 } } },
  params: { type: 'object' },
};
