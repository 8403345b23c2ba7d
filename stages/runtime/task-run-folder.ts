import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argmax, multiclassMetrics, type MulticlassMetrics } from '../metrics/multiclass.js';
import { regressionByBin, regressionMetrics, type RegressionMetrics } from '../metrics/regression.js';
import { runFacts, type FoldMetrics, type RunInfo } from './run-folder.js';
import type { Sample } from './manifest.js';
import type { Targets } from './targets.js';

/** A multi-class or regression fold's `metrics.json` (docs/formats.md): the binary file's frame with the task's metrics. */
export interface TaskFoldMetrics extends Omit<FoldMetrics, 'val' | 'train' | 'per_source_auc'> {
  task: 'multiclass' | 'regression';
  /** Class names in label order (multi-class). */
  classes: string[];
  val: MulticlassMetrics | RegressionMetrics;
  train: MulticlassMetrics | RegressionMetrics;
  /** Regression: the validation metrics per quartile of the target. */
  val_by_target_bin?: ReturnType<typeof regressionByBin>;
}

export interface TaskPredictions {
  fold: number;
  trainSet: readonly Sample[];
  valSet: readonly Sample[];
  /** Multi-class: class probabilities per sample; regression: [prediction]. */
  train: number[][];
  val: number[][];
}

export function scoreTaskFold(targets: Targets, p: TaskPredictions, run: RunInfo): TaskFoldMetrics {
  const yTrain = p.trainSet.map((s) => s.label);
  const yVal = p.valSet.map((s) => s.label);
  const task = targets.task as 'multiclass' | 'regression';
  const score = (y: number[], rows: number[][]) => (task === 'multiclass' ? multiclassMetrics(y, rows, targets.classNames.length) : regressionMetrics(y, rows.map((r) => r[0])));
  return {
    task,
    classes: targets.classNames,
    fold: p.fold,
    best_epoch: run.best_epoch,
    epochs_run: run.epochs_run,
    val: score(yVal, p.val),
    train: score(yTrain, p.train),
    ...(task === 'regression' ? { val_by_target_bin: regressionByBin(yVal, p.val.map((r) => r[0])) } : {}),
    ...runFacts(run, p),
  };
}

/** oof.csv for a multi-class run: a probability column per class, then the predicted class; for regression: the prediction. */
export function taskOofCsv(metrics: TaskFoldMetrics, p: TaskPredictions): string {
  const header = metrics.task === 'multiclass' ? ['id', 'label', 'source', ...metrics.classes.map((_, k) => `p_${k}`), 'pred'] : ['id', 'label', 'source', 'pred'];
  const rows = p.valSet.map((s, i) => {
    const out = p.val[i];
    const cells = metrics.task === 'multiclass' ? [...out.map((v) => v.toPrecision(8)), String(argmax(out))] : [out[0].toPrecision(8)];
    return [s.path, String(s.label), s.source, ...cells].join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}

export function writeTaskRunFolder(out: string, metrics: TaskFoldMetrics, p: TaskPredictions, history: readonly object[]): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'history.json'), JSON.stringify(history, null, 1) + '\n');
  writeFileSync(path.join(out, 'oof.csv'), taskOofCsv(metrics, p));
  writeFileSync(path.join(out, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
}
