import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readDataset } from '../runtime/manifest.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { makeSplit, type Stratify } from './split.js';

export interface SplitParams {
  seed: number;
  cv: { folds: number; stratify: Stratify };
}

/** One split for every experiment, so their folds are comparable and paired tests are valid. */
export const split: BuiltinStage<SplitParams> = {
  declaration,
  async run(ctx) {
    const dataDir = ctx.inputs.dataset;
    const out = ctx.outputs.splits;
    const samples = readDataset(dataDir);
    const groups = new Set(samples.map((s) => s.group)).size;
    if (groups < ctx.params.cv.folds) throw new StageError(`${groups} groups cannot fill ${ctx.params.cv.folds} folds`);
    const result = makeSplit(samples, ctx.params.cv.folds, ctx.params.seed, ctx.params.cv.stratify);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ dataset: dataDir, ...result }, null, 1) + '\n');
    ctx.log(`split: ${samples.length} samples, ${groups} groups, ${ctx.params.cv.folds} folds`);
  },
};
