import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argmax } from '../metrics/multiclass.js';
import type { Task } from './dataset-task.js';
import type { Sample } from './manifest.js';
import type { NamedTarget } from './multi-targets.js';
import { runFacts, scoreFold, type FoldMetrics, type RunInfo } from './run-folder.js';
import { scoreTaskFold, type TaskFoldMetrics } from './task-run-folder.js';

/** One target's part of a multi-target fold's metrics.json: what a single-target run of it would write, without the run's facts. */
export type TargetFoldMetrics = { task: Task } & (Pick<FoldMetrics, 'val' | 'train' | 'per_source_auc'> | Pick<TaskFoldMetrics, 'classes' | 'val' | 'train' | 'val_by_target_bin'>);

/** A multi-target fold's metrics.json (docs/formats.md, "Several targets"). */
export interface MultiFoldMetrics extends Omit<FoldMetrics, 'val' | 'train' | 'per_source_auc'> {
  /** The target early stopping watched, or `loss`. */
  monitor: string;
  targets: Record<string, TargetFoldMetrics>;
}

export interface TargetPredictions {
  target: NamedTarget;
  /** Labels and predictions (probabilities, class probabilities, or [value]) per sample. */
  yTrain: readonly number[];
  yVal: readonly number[];
  train: number[][];
  val: number[][];
}

const relabel = (set: readonly Sample[], labels: readonly number[]) => set.map((s, i) => ({ ...s, label: labels[i] }));

/** Each target scored as a run of it alone would be: the same metrics, the same thresholds, the same per-source AUC. */
export function scoreMultiFold(fold: number, trainSet: readonly Sample[], valSet: readonly Sample[], parts: readonly TargetPredictions[], run: RunInfo, monitor: string): MultiFoldMetrics {
  const targets: Record<string, TargetFoldMetrics> = {};
  for (const p of parts) {
    const [tr, va] = [relabel(trainSet, p.yTrain), relabel(valSet, p.yVal)];
    if (p.target.targets.task === 'binary') {
      const m = scoreFold({ fold, trainSet: tr, valSet: va, trainProbs: p.train.map((r) => r[0]), valProbs: p.val.map((r) => r[0]) }, run);
      targets[p.target.name] = { task: 'binary', val: m.val, train: m.train, per_source_auc: m.per_source_auc };
    } else {
      const m = scoreTaskFold(p.target.targets, { fold, trainSet: tr, valSet: va, train: p.train, val: p.val }, run);
      targets[p.target.name] = { task: m.task, classes: m.classes, val: m.val, train: m.train, ...(m.val_by_target_bin ? { val_by_target_bin: m.val_by_target_bin } : {}) };
    }
  }
  return { fold, best_epoch: run.best_epoch, epochs_run: run.epochs_run, monitor, targets, ...runFacts(run, { trainSet, valSet }) };
}

/** oof.csv with one column set per target: `<t>_label`, then `<t>_prob,<t>_pred` (binary), `<t>_p_<k>...,<t>_pred` (multi-class) or `<t>_pred` (regression). */
export function multiOofCsv(metrics: MultiFoldMetrics, valSet: readonly Sample[], parts: readonly TargetPredictions[]): string {
  const header = ['id', 'source'];
  for (const p of parts) {
    const t = metrics.targets[p.target.name];
    header.push(`${p.target.name}_label`);
    if (t.task === 'binary') header.push(`${p.target.name}_prob`, `${p.target.name}_pred`);
    else if (t.task === 'multiclass') header.push(...p.target.targets.classNames.map((_, k) => `${p.target.name}_p_${k}`), `${p.target.name}_pred`);
    else header.push(`${p.target.name}_pred`);
  }
  const rows = valSet.map((s, i) => {
    const cells = [s.path, s.source];
    for (const p of parts) {
      const t = metrics.targets[p.target.name];
      const out = p.val[i];
      cells.push(String(p.yVal[i]));
      if (t.task === 'binary') cells.push(out[0].toPrecision(8), out[0] >= (t.val as FoldMetrics['val']).threshold ? '1' : '0');
      else if (t.task === 'multiclass') cells.push(...out.map((v) => v.toPrecision(8)), String(argmax(out)));
      else cells.push(out[0].toPrecision(8));
    }
    return cells.join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}

export function writeMultiRunFolder(out: string, metrics: MultiFoldMetrics, valSet: readonly Sample[], parts: readonly TargetPredictions[], history: readonly object[]): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'history.json'), JSON.stringify(history, null, 1) + '\n');
  writeFileSync(path.join(out, 'oof.csv'), multiOofCsv(metrics, valSet, parts));
  writeFileSync(path.join(out, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
}
