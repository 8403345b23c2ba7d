import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: report` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'report',
  version: '4',
  description: 'the HTML + Markdown report over every experiment',
  entry: 'report/main.js',
  inputs: {
    results: { kind: 'dir', description: 'the results folder (one JSON per experiment)' },
    eda: { kind: 'dir', description: 'the EDA folder' },
    configs: { kind: 'dir', description: 'the experiment configs (configs/study.yaml names baselines)' },
    runs: { kind: 'dir', description: 'the run folders (predictions, histories)' },
    dataset: { kind: 'dir', required: false, description: 'the dataset (images for the hardest-errors grid)' },
  },
  outputs: {
    report: { kind: 'dir', description: 'index.html and report.md' },
  },
  options: { type: 'object', additionalProperties: false },
  params: { type: 'object' },
};
