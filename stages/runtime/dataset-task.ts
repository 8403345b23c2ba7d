import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from './manifest.js';

export type Task = 'binary' | 'multiclass' | 'regression';

/** Most distinct integer labels read as classes rather than a numeric target when a dataset does not say. */
const MAX_IMPLIED_CLASSES = 50;

/** What the `images` stage records beside a dataset's manifest (dataset.json), as far as the other stages read it. */
export interface DatasetSummary {
  task?: Task;
  /** In label order's terms: each class's name and label. */
  classes?: { name: string; label: number }[];
}

/** A dataset's dataset.json, or an empty summary where it has none (the bundled synthetic data). */
export function datasetSummary(dir: string): DatasetSummary {
  const file = path.join(dir, 'dataset.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DatasetSummary) : {};
}

/** The class names a dataset records, in label order; undefined where it records none. */
export function datasetClassNames(dir: string): string[] | undefined {
  const classes = datasetSummary(dir).classes;
  return classes?.length ? [...classes].sort((a, b) => a.label - b.label).map((c) => c.name) : undefined;
}

/**
 * The task a dataset's labels describe: what its dataset.json says (the `images` stage writes
 * one), else 0/1 labels are binary, a few distinct integers multi-class, anything else a
 * regression target.
 */
export function datasetTask(dir: string, samples: readonly Sample[]): Task {
  const { task } = datasetSummary(dir);
  if (task === 'binary' || task === 'multiclass' || task === 'regression') return task;
  const labels = new Set(samples.map((s) => s.label));
  if ([...labels].every((l) => l === 0 || l === 1)) return 'binary';
  if ([...labels].every((l) => Number.isInteger(l) && l >= 0) && labels.size <= MAX_IMPLIED_CLASSES) return 'multiclass';
  return 'regression';
}

/** Each task's headline metric (higher better unless `lower`) and its loss, as metrics.json names them. */
export const PRIMARY: Record<Task, { metric: string; name: string; lower: boolean; loss: string; lossName: string }> = {
  binary: { metric: 'auc', name: 'AUC', lower: false, loss: 'log_loss', lossName: 'log loss' },
  multiclass: { metric: 'auc_ovr_macro', name: 'macro AUC', lower: false, loss: 'log_loss', lossName: 'log loss' },
  regression: { metric: 'mae', name: 'MAE', lower: true, loss: 'mse', lossName: 'MSE' },
};
