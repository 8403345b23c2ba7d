import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readDataset } from '../runtime/manifest.js';
import { pathAt, StageError, type BuiltinStage } from '../runtime/stage.js';
import { makeSplit, type Stratify } from './split.js';

export interface SplitParams {
  seed: number;
  cv: { folds: number; stratify: Stratify };
}

/** One split for every experiment, so their folds are comparable and paired tests are valid. */
export const split: BuiltinStage<SplitParams> = {
  name: 'split',
  version: '1',
  paramsSchema: {
    type: 'object',
    required: ['seed', 'cv'],
    properties: {
      seed: { type: 'integer' },
      cv: {
        type: 'object',
        properties: { folds: { type: 'integer', minimum: 2, default: 5 }, stratify: { enum: ['label', 'label_source'], default: 'label' } },
      },
    },
  },
  async run(ctx) {
    const dataDir = pathAt(ctx.deps, 0, 'the dataset directory (deps[0])', 'split');
    const out = pathAt(ctx.outs, 0, 'the splits file (outs[0])', 'split');
    const samples = readDataset(dataDir);
    const groups = new Set(samples.map((s) => s.group)).size;
    if (groups < ctx.params.cv.folds) throw new StageError(`${groups} groups cannot fill ${ctx.params.cv.folds} folds`);
    const result = makeSplit(samples, ctx.params.cv.folds, ctx.params.seed, ctx.params.cv.stratify);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ dataset: dataDir, ...result }, null, 1) + '\n');
    ctx.log(`split: ${samples.length} samples, ${groups} groups, ${ctx.params.cv.folds} folds`);
  },
};
