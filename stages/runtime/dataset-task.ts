import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from './manifest.js';

export type Task = 'binary' | 'multiclass' | 'regression';

/** Most distinct integer labels read as classes rather than a numeric target when a dataset does not say. */
const MAX_IMPLIED_CLASSES = 50;

/**
 * The task a dataset's labels describe: what its dataset.json says (the `images` stage writes
 * one), else 0/1 labels are binary, a few distinct integers multi-class, anything else a
 * regression target.
 */
export function datasetTask(dir: string, samples: readonly Sample[]): Task {
  const summary = path.join(dir, 'dataset.json');
  if (existsSync(summary)) {
    const task = (JSON.parse(readFileSync(summary, 'utf8')) as { task?: Task }).task;
    if (task === 'binary' || task === 'multiclass' || task === 'regression') return task;
  }
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
