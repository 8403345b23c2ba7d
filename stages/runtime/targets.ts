import path from 'node:path';
import { datasetClassNames, type Task } from './dataset-task.js';
import { manifestColumns, MANIFEST, readManifestColumn, type Sample } from './manifest.js';
import { StageError } from './stage.js';

/** What a trainer learns to predict: the task, the class names (multi-class), and each sample's label. */
export interface Targets {
  task: Task;
  /** Class names in label order (binary: negative, positive); empty for regression. */
  classNames: string[];
  labelOf(sample: Sample): number;
}

/** One column of a dataset's manifest, by sample path. */
function manifestColumn(dir: string, column: string): Map<string, string> {
  const values = readManifestColumn(dir, column);
  if (!values) throw new StageError(`data.target: ${column} is not a column of ${path.join(dir, MANIFEST)} (it has: ${manifestColumns(dir).join(', ') || 'no manifest'})`);
  return values;
}

/**
 * The labels a trainer fits: the manifest's `label` under the split's task, or another column
 * (`data.target: source` attributes images to their source; a numeric column such as `age` is a
 * regression target). `task:` in the experiment config overrides what the column implies.
 */
export function resolveTargets(samples: readonly Sample[], dataDir: string, splitTask: Task, options: { target?: string; task?: Task }): Targets {
  const target = options.target ?? 'label';
  if (target === 'label') {
    const task = options.task ?? splitTask;
    if (task === 'regression') return { task, classNames: [], labelOf: (s) => s.label };
    const count = Math.max(...samples.map((s) => s.label)) + 1;
    const names = datasetClassNames(dataDir) ?? (task === 'binary' ? ['real', 'fake'] : Array.from({ length: count }, (_, k) => `class ${k}`));
    return { task, classNames: names, labelOf: (s) => s.label };
  }
  const values = target === 'source' ? new Map(samples.map((s) => [s.path, s.source])) : manifestColumn(dataDir, target);
  const raw = samples.map((s) => {
    const v = values.get(s.path);
    if (v === undefined || v.trim() === '') throw new StageError(`data.target: ${target}: ${s.path} has no value`);
    return v;
  });
  const numeric = raw.every((v) => Number.isFinite(Number(v)));
  const task = options.task ?? (numeric && target !== 'source' ? 'regression' : 'multiclass');
  if (task === 'regression') {
    const bad = samples.find((_, i) => !Number.isFinite(Number(raw[i])));
    if (bad) throw new StageError(`data.target: ${target} is a regression target, but ${bad.path} has "${values.get(bad.path)}", not a number`);
    return { task, classNames: [], labelOf: (s) => Number(values.get(s.path)) };
  }
  const names = [...new Set(raw)].sort();
  if (task === 'binary' && names.length !== 2) throw new StageError(`data.target: ${target} has ${names.length} values (${names.join(', ')}); task: binary needs two`);
  const index = new Map(names.map((n, i) => [n, i]));
  return { task, classNames: names, labelOf: (s) => index.get(values.get(s.path)!)! };
}
