import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { binaryMetrics, youdenThreshold, type BinaryMetrics } from '../metrics/metrics.js';
import type { Sample } from './manifest.js';

/** One epoch of `history.json`: AUC for classifiers (macro one-vs-rest for multi-class), MAE for regression. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss: number;
  train_auc?: number;
  val_auc?: number;
  train_mae?: number;
  val_mae?: number;
}

/** The `metrics.json` any trainer writes for `aggregate` and `report` (docs/formats.md). */
export interface FoldMetrics {
  fold: number;
  best_epoch: number;
  epochs_run: number;
  val: BinaryMetrics;
  train: BinaryMetrics;
  per_source_auc: Record<string, number>;
  backend: string;
  backend_detail: string;
  n_train: number;
  n_val: number;
  /** Trainable parameters of the model (a sweep's compute axis is parameters x images seen). */
  parameters: number;
  /** Training images the model was shown, over every epoch run. */
  images_seen: number;
  /** Multiply-adds per image (torchvision's FLOPs), where the trainer counts them. */
  flops?: number;
  /** Bytes of the saved weights, where the trainer has them. */
  weights_bytes?: number;
  /** train.balance: the training images per group, and per epoch (oversample) or their loss weight. */
  balance?: { by: string; method: 'oversample' | 'weights'; groups: { group: string; n: number; per_epoch: number; weight: number }[] };
}

/** What a fold's model predicted: P(positive) for each training and validation sample. */
export interface FoldPredictions {
  fold: number;
  trainSet: readonly Sample[];
  valSet: readonly Sample[];
  trainProbs: readonly number[];
  valProbs: readonly number[];
}

/**
 * A fold's metrics: the threshold comes from the training predictions (Youden's J) and is
 * applied to the validation images, never chosen on the images it scores; per-source AUC is
 * real vs each fake source among the validation images.
 */
/** What a trainer knows about its run beyond the predictions. */
export type RunInfo = Pick<FoldMetrics, 'best_epoch' | 'epochs_run' | 'backend' | 'backend_detail' | 'parameters' | 'images_seen' | 'flops' | 'weights_bytes'>;

export function scoreFold(p: FoldPredictions, run: RunInfo): FoldMetrics {
  const yTrain = p.trainSet.map((s) => s.label);
  const yVal = p.valSet.map((s) => s.label);
  const threshold = youdenThreshold(yTrain, p.trainProbs);
  const perSource: Record<string, number> = {};
  for (const source of [...new Set(p.valSet.filter((s) => s.label === 1).map((s) => s.source))].sort()) {
    const idx = p.valSet.flatMap((s, i) => (s.label === 0 || s.source === source ? [i] : []));
    perSource[source] = binaryMetrics(idx.map((i) => yVal[i]), idx.map((i) => p.valProbs[i])).auc;
  }
  return {
    fold: p.fold,
    best_epoch: run.best_epoch,
    epochs_run: run.epochs_run,
    val: binaryMetrics(yVal, p.valProbs, threshold),
    train: binaryMetrics(yTrain, p.trainProbs, threshold),
    per_source_auc: perSource,
    ...runFacts(run, p),
  };
}

/** The facts every task's metrics.json ends with: where it ran, on how many images, at what size. */
export function runFacts(run: RunInfo, p: { trainSet: readonly Sample[]; valSet: readonly Sample[] }): Pick<FoldMetrics, 'backend' | 'backend_detail' | 'n_train' | 'n_val' | 'parameters' | 'images_seen' | 'flops' | 'weights_bytes'> {
  const cost = run.flops === undefined ? {} : { flops: run.flops, weights_bytes: run.weights_bytes };
  return { backend: run.backend, backend_detail: run.backend_detail, n_train: p.trainSet.length, n_val: p.valSet.length, parameters: run.parameters, images_seen: run.images_seen, ...cost };
}

/**
 * Writes history.json, oof.csv and metrics.json into a run folder (any model files are the
 * trainer's own). Only results go in: speeds and dates stay in the log, so reruns are byte-identical.
 */
export function writeRunFolder(out: string, metrics: FoldMetrics, p: FoldPredictions, history: readonly EpochRecord[]): void {
  mkdirSync(out, { recursive: true });
  const threshold = metrics.val.threshold;
  writeFileSync(path.join(out, 'history.json'), JSON.stringify(history, null, 1) + '\n');
  const rows = p.valSet.map((s, i) => `${s.path},${s.label},${s.source},${p.valProbs[i].toPrecision(8)},${p.valProbs[i] >= threshold ? 1 : 0}`);
  writeFileSync(path.join(out, 'oof.csv'), ['id,label,source,prob,pred', ...rows].join('\n') + '\n');
  writeFileSync(path.join(out, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
}
