import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logitMeanCi, mean, meanCi } from '../metrics/stats.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';

/** One fold's `metrics.json`, as any trainer writes it (see docs/formats.md). */
interface FoldFile {
  fold: number;
  /** Absent for binary runs. */
  task?: 'multiclass' | 'regression';
  classes?: string[];
  best_epoch: number;
  /** Metrics, and `n`: how many images the fold scored. */
  val: Record<string, number>;
  train: Record<string, number>;
  per_source_auc: Record<string, number>;
  backend?: string;
}

export const METRICS = ['auc', 'pr_auc', 'accuracy', 'balanced_accuracy', 'f1', 'precision', 'recall', 'log_loss'] as const;
/** Metrics in [0, 1], whose intervals must stay there: a logit-scale t interval (see logitMeanCi). */
const BOUNDED = new Set<string>(['auc', 'pr_auc', 'accuracy', 'balanced_accuracy', 'f1', 'precision', 'recall']);
const INTERVALS = '95% t interval over folds, on the logit scale for metrics in [0, 1] (AUC, PR-AUC, accuracy, balanced accuracy, F1, precision, recall) so it stays in [0, 1]; on the raw scale for log loss and the train-val gap';

/** Per experiment over folds: mean, std and 95% interval of every metric, per-source AUC, gaps. */
export const aggregate: BuiltinStage = {
  declaration,
  async run(ctx) {
    const runsDir = ctx.inputs.runs;
    const out = ctx.outputs.results;
    const foldDirs = existsSync(runsDir) ? readdirSync(runsDir).filter((d) => existsSync(path.join(runsDir, d, 'metrics.json'))).sort() : [];
    if (foldDirs.length === 0) throw new StageError(`${runsDir}: no fold*/metrics.json`);
    const folds = foldDirs.map((d) => JSON.parse(readFileSync(path.join(runsDir, d, 'metrics.json'), 'utf8')) as FoldFile & Partial<MultiFoldFile>);
    const task = folds[0].task;
    const experiment = String(ctx.options.experiment ?? path.basename(runsDir));
    // An experiment made from values (`set:`, a search) has no config file: its resolved params travel with its results.
    const params = Object.keys(ctx.params).length ? { params: ctx.params } : {};
    const write = (result: object) => {
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    };
    if (folds[0].targets) {
      // Several targets from one network: each aggregated as a run of it alone would be.
      const names = Object.keys(folds[0].targets);
      const targets = Object.fromEntries(
        names.map((name) => {
          const each = folds.map((f) => ({ ...f, ...f.targets![name], backend: f.backend }) as FoldFile);
          const kind = each[0].task as string | undefined;
          return [name, kind === 'multiclass' || kind === 'regression' ? taskResult(experiment, kind, each) : binaryResult(experiment, each)];
        }),
      );
      write({ experiment, folds: folds.map((f) => f.fold), monitor: folds[0].monitor, intervals: INTERVALS, targets, best_epochs: folds.map((f) => f.best_epoch), backend: folds[0].backend ?? 'unknown', ...params });
      ctx.log(`aggregate ${experiment}: ${names.length} targets (${names.join(', ')}) over ${folds.length} folds`);
      return;
    }
    if (task) {
      const result = { ...taskResult(experiment, task, folds), ...params };
      write(result);
      ctx.log(`aggregate ${result.experiment} (${task}): ${Object.entries(result.metrics).map(([k, v]) => `${k} ${v.mean.toFixed(3)}`).join(', ')}`);
      return;
    }
    const result = { ...binaryResult(experiment, folds), ...params };
    write(result);
    ctx.log(`aggregate ${result.experiment}: AUC ${result.metrics.auc.mean.toFixed(4)} [${result.metrics.auc.lo.toFixed(4)}, ${result.metrics.auc.hi.toFixed(4)}] over ${folds.length} folds`);
  },
};

/** A multi-target fold's metrics.json: per target, what a single-target fold writes (docs/formats.md). */
interface MultiFoldFile {
  monitor: string;
  targets: Record<string, Pick<FoldFile, 'task' | 'classes' | 'val' | 'train' | 'per_source_auc'>>;
}

/** A binary experiment over folds. */
function binaryResult(experiment: string, folds: FoldFile[]) {
  // A metric some trainer does not write (balanced accuracy from an older or a custom one) is left out, not made NaN.
  const present = METRICS.filter((m) => folds.every((f) => typeof f.val[m] === 'number'));
  const metrics = Object.fromEntries(present.map((m) => [m, { ...(BOUNDED.has(m) ? logitMeanCi : meanCi)(folds.map((f) => f.val[m])), values: folds.map((f) => f.val[m]) }]));
  const thresholds = folds.map((f) => f.val.threshold ?? 0.5);
  const sources = [...new Set(folds.flatMap((f) => Object.keys(f.per_source_auc)))].sort();
  const perSource = Object.fromEntries(sources.map((s) => [s, { ...logitMeanCi(folds.map((f) => f.per_source_auc[s]).filter((v) => v !== undefined)), values: folds.map((f) => f.per_source_auc[s]) }]));
  const sourceMeans = sources.map((s) => perSource[s].mean);
  const gap = folds.map((f) => f.train.auc - f.val.auc);
  return {
    experiment,
    folds: folds.map((f) => f.fold),
    intervals: INTERVALS,
    // What the Nadeau-Bengio correction needs: how much of the data each fold tested on, per image trained on.
    test_train_ratio: folds.every((f) => f.val.n > 0 && f.train.n > 0) ? mean(folds.map((f) => f.val.n / f.train.n)) : null,
    metrics,
    per_source_auc: perSource,
    per_source_auc_variance: sourceMeans.length > 1 ? sourceMeans.reduce((a, m) => a + (m - sourceMeans.reduce((x, y) => x + y, 0) / sourceMeans.length) ** 2, 0) / (sourceMeans.length - 1) : 0,
    train_val_gap: { ...meanCi(gap), values: gap },
    best_epochs: folds.map((f) => f.best_epoch),
    thresholds,
    backend: folds[0].backend ?? 'unknown',
  };
}

const TASK_METRICS = {
  multiclass: { bounded: ['accuracy', 'balanced_accuracy', 'f1_macro', 'f1_weighted', 'auc_ovr_macro'], unbounded: ['log_loss'] },
  regression: { bounded: [], unbounded: ['mae', 'rmse', 'mse', 'r2', 'mape'] },
} as const;

/** A multi-class or regression experiment over folds: the same intervals as binary, the task's metrics, the pooled confusion and per-class means. */
function taskResult(experiment: string, task: 'multiclass' | 'regression', folds: FoldFile[]) {
  const { bounded, unbounded } = TASK_METRICS[task];
  const metrics: Record<string, ReturnType<typeof meanCi> & { values: number[] }> = {};
  for (const m of [...bounded, ...unbounded] as string[]) {
    const values = folds.map((f) => f.val[m]);
    // MAPE is withheld (null) on folds whose targets come near zero: then it is left out, not averaged.
    if (!values.every((v) => typeof v === 'number')) continue;
    metrics[m] = { ...((bounded as readonly string[]).includes(m) ? logitMeanCi : meanCi)(values), values };
  }
  const classes = folds[0].classes ?? [];
  const perClassOf = (f: FoldFile) => f.val as unknown as { precision: number[]; recall: number[]; confusion: number[][] };
  const perClass = task === 'multiclass'
    ? Object.fromEntries(classes.map((name, k) => [name, { precision: mean(folds.map((f) => perClassOf(f).precision[k])), recall: mean(folds.map((f) => perClassOf(f).recall[k])) }]))
    : undefined;
  const confusion = task === 'multiclass' ? classes.map((_, i) => classes.map((_, j) => folds.reduce((a, f) => a + perClassOf(f).confusion[i][j], 0))) : undefined;
  return {
    experiment,
    task,
    classes,
    folds: folds.map((f) => f.fold),
    intervals: INTERVALS,
    test_train_ratio: folds.every((f) => f.val.n > 0 && f.train.n > 0) ? mean(folds.map((f) => f.val.n / f.train.n)) : null,
    metrics,
    ...(perClass ? { per_class: perClass, confusion } : {}),
    best_epochs: folds.map((f) => f.best_epoch),
    backend: folds[0].backend ?? 'unknown',
  };
}
