import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: eda` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'eda',
  version: '1',
  description: 'counts, geometry with a shortcut check, colour statistics, duplicates, sample grids',
  entry: 'eda/main.js',
  inputs: {
    dataset: { kind: 'dir', description: 'a dataset folder with manifest.csv' },
  },
  outputs: {
    eda: { kind: 'dir', description: 'the EDA folder (eda.json, charts, grids)' },
  },
  options: { type: 'object', additionalProperties: false },
  params: { type: 'object' },
};
