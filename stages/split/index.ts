import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readDataset } from '../runtime/manifest.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { makeSplit, type Stratify } from './split.js';
import { datasetTask, type Task } from '../runtime/dataset-task.js';
import type { Sample } from '../runtime/manifest.js';

/**
 * A classifier's folds each need every class: one class, or a class with fewer groups than
 * folds, is an error that names the classes (nothing is written).
 */
function checkClasses(samples: readonly Sample[], task: Task, folds: number, dataDir: string): void {
  if (task === 'regression') {
    if (new Set(samples.map((s) => s.label)).size < 2) throw new StageError(`${dataDir}: every regression target is ${samples[0]?.label}: there is nothing to learn`);
    return;
  }
  const groupsOf = new Map<number, Set<string>>();
  for (const s of samples) groupsOf.set(s.label, (groupsOf.get(s.label) ?? new Set()).add(s.group));
  const classes = [...groupsOf.keys()].sort((a, b) => a - b);
  if (classes.length < 2) throw new StageError(`${dataDir}: a single class (label ${classes[0]}) in ${samples.length} samples; a classifier needs at least two`);
  const thin = classes.filter((c) => groupsOf.get(c)!.size < folds);
  if (thin.length) {
    const listing = thin.map((c) => `label ${c} (${groupsOf.get(c)!.size} group${groupsOf.get(c)!.size === 1 ? '' : 's'})`).join(', ');
    throw new StageError(`${dataDir}: ${listing}: fewer groups than the ${folds} folds, so some folds would validate without that class; add images, merge the class, or set cv.folds lower`);
  }
}

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
    const task = datasetTask(dataDir, samples);
    checkClasses(samples, task, ctx.params.cv.folds, dataDir);
    const result = makeSplit(samples, ctx.params.cv.folds, ctx.params.seed, ctx.params.cv.stratify, task);
    mkdirSync(path.dirname(out), { recursive: true });
    // A binary split keeps the bytes it always had (no `task`), so existing studies' caches stay valid.
    writeFileSync(out, JSON.stringify({ dataset: dataDir, ...(task === 'binary' ? {} : { task }), ...result }, null, 1) + '\n');
    ctx.log(`split: ${samples.length} samples, ${groups} groups, ${ctx.params.cv.folds} folds (${task})`);
  },
};
