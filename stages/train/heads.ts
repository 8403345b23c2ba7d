import * as tf from '@tensorflow/tfjs';
import { logLoss, rocAuc } from '../metrics/metrics.js';
import { argmax, multiclassLogLoss, multiclassMetrics } from '../metrics/multiclass.js';
import { regressionMetrics } from '../metrics/regression.js';
import type { Task } from '../runtime/dataset-task.js';

/** What early stopping watches: the task's own metric by default, or the validation loss. */
export type Monitor = 'default' | 'loss';

/** One epoch's numbers for history.json and early stopping (score: higher is better). */
export interface EpochScores {
  train_loss: number;
  val_loss: number;
  /** binary and multi-class: ROC AUC (macro one-vs-rest); regression: MAE. */
  train: number;
  val: number;
  score: number;
}

/** What a task changes in a network: its last layer, its loss, how targets go in and predictions come out. */
export interface Head {
  task: Task;
  units: number;
  activation: 'sigmoid' | 'softmax' | 'linear';
  loss: string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);
  /** The metric early stopping watches, for logs. */
  monitor: string;
  encode(labels: readonly number[]): tf.Tensor2D;
  /** Network outputs to what is written: probabilities, or targets on their own scale. */
  decode(rows: number[][]): number[][];
  scores(yTrain: readonly number[], train: number[][], yVal: readonly number[], val: number[][]): EpochScores;
}

const column = (rows: number[][]) => rows.map((r) => r[0]);

/** Early stopping on the validation loss instead of the head's metric (train.monitor: loss). */
export function monitoringLoss(head: Head): Head {
  return {
    ...head,
    monitor: 'val loss',
    scores: (...args) => {
      const s = head.scores(...args);
      return { ...s, score: -s.val_loss };
    },
  };
}

export function binaryHead(): Head {
  return {
    task: 'binary',
    units: 1,
    activation: 'sigmoid',
    loss: 'binaryCrossentropy',
    monitor: 'val AUC',
    encode: (labels) => tf.tensor2d(labels.map((y) => [y]), [labels.length, 1]),
    decode: (rows) => rows,
    scores(yTrain, train, yVal, val) {
      const v = rocAuc(yVal, column(val));
      return { train_loss: logLoss(yTrain, column(train), 1e-7), val_loss: logLoss(yVal, column(val), 1e-7), train: rocAuc(yTrain, column(train)), val: v, score: v };
    },
  };
}

export function multiclassHead(classes: number): Head {
  // Macro one-vs-rest AUC needs every class among the validation images; accuracy stands in where one is missing.
  const score = (y: readonly number[], rows: number[][]) => {
    const m = multiclassMetrics(y, rows, classes);
    return Number.isNaN(m.auc_ovr_macro) ? m.accuracy : m.auc_ovr_macro;
  };
  return {
    task: 'multiclass',
    units: classes,
    activation: 'softmax',
    loss: 'categoricalCrossentropy',
    monitor: 'val macro AUC',
    encode: (labels) => tf.tidy(() => tf.oneHot(tf.tensor1d(labels as number[], 'int32'), classes).toFloat() as tf.Tensor2D),
    decode: (rows) => rows,
    scores(yTrain, train, yVal, val) {
      const v = score(yVal, val);
      return { train_loss: multiclassLogLoss(yTrain, train), val_loss: multiclassLogLoss(yVal, val), train: score(yTrain, train), val: v, score: v };
    },
  };
}

/**
 * A linear output on standardised targets (mean and std of the training targets), so the
 * learning rate means the same whatever the target's unit; predictions are mapped back.
 */
export function regressionHead(trainTargets: readonly number[], loss: 'mse' | 'huber'): Head {
  const mean = trainTargets.reduce((a, b) => a + b, 0) / trainTargets.length;
  const sd = Math.sqrt(trainTargets.reduce((a, y) => a + (y - mean) ** 2, 0) / trainTargets.length) || 1;
  return {
    task: 'regression',
    units: 1,
    activation: 'linear',
    loss: loss === 'huber' ? (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred) : 'meanSquaredError',
    monitor: 'val MAE',
    encode: (labels) => tf.tensor2d(labels.map((y) => [(y - mean) / sd]), [labels.length, 1]),
    decode: (rows) => rows.map((r) => [r[0] * sd + mean]),
    scores(yTrain, train, yVal, val) {
      const t = regressionMetrics(yTrain, column(train));
      const v = regressionMetrics(yVal, column(val));
      return { train_loss: t.mse, val_loss: v.mse, train: t.mae, val: v.mae, score: -v.mae };
    },
  };
}

export const predictedClass = argmax;

/** One target of a multi-task head: its own head, its labels by sample, its share of the loss. */
export interface TaskPart {
  name: string;
  head: Head;
  weight: number;
  train: readonly number[];
  val: readonly number[];
}

/**
 * Several targets from one network: the last layer has every head's units side by side
 * (linear), and each head's slice gets its own activation and loss, summed with the weights.
 * Its `encode`/`scores` take sample indices, not labels: each target looks its labels up.
 * `monitor`: a target's name (its metric) or `loss` (the weighted total on the scales the
 * losses train on: regression's MSE on the standardised target).
 */
export function multiTaskHead(parts: readonly TaskPart[], monitor: string): Head & { parts: readonly TaskPart[]; slices(rows: number[][]): number[][][]; rowLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor } {
  const offsets: number[] = [];
  let units = 0;
  for (const p of parts) {
    offsets.push(units);
    units += p.head.units;
  }
  const sliceOf = (rows: number[][], k: number) => rows.map((r) => r.slice(offsets[k], offsets[k] + parts[k].head.units));
  // The regression heads' spread, to put their MSE (reported in the target's unit) on the trained scale.
  const scale = parts.map((p) => (p.head.task === 'regression' ? regressionSpread(p.head) : 1));
  // Each image's loss for one target, from the logits (what train.balance's weights multiply).
  const partRowLoss = (p: TaskPart, yTrue: tf.Tensor, logits: tf.Tensor): tf.Tensor => {
    const none = tf.Reduction.NONE;
    if (p.head.task === 'binary') return tf.losses.sigmoidCrossEntropy(yTrue, logits, undefined, 0, none).mean(1);
    if (p.head.task === 'multiclass') return tf.losses.softmaxCrossEntropy(yTrue, logits, undefined, 0, none);
    return p.head.loss === 'meanSquaredError' ? tf.square(yTrue.sub(logits)).mean(1) : tf.losses.huberLoss(yTrue, logits, undefined, 1, none).mean(1);
  };
  const rowLoss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    tf.tidy(() => parts.map((p, k) => partRowLoss(p, yTrue.slice([0, offsets[k]], [-1, p.head.units]), yPred.slice([0, offsets[k]], [-1, p.head.units])).mul(p.weight)).reduce((a, b) => a.add(b)));
  const activate = (task: Task, rows: number[][]): number[][] => {
    if (task === 'binary') return rows.map((r) => [1 / (1 + Math.exp(-r[0]))]);
    if (task === 'multiclass') {
      return rows.map((r) => {
        const top = Math.max(...r);
        const e = r.map((v) => Math.exp(v - top));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / sum);
      });
    }
    return rows;
  };
  const monitored = monitor === 'loss' ? -1 : parts.findIndex((p) => p.name === monitor);
  return {
    task: parts[0].head.task,
    units,
    activation: 'linear',
    parts,
    loss: (yTrue, yPred) => tf.tidy(() => rowLoss(yTrue, yPred).mean()),
    rowLoss,
    monitor: monitored < 0 ? 'val loss (weighted, all targets)' : `${parts[monitored].name} ${parts[monitored].head.monitor}`,
    encode: (indices) => tf.tidy(() => tf.concat(parts.map((p) => p.head.encode(indices.map((i) => p.train[i]))), 1) as tf.Tensor2D),
    decode: (rows) => rows.map((_, i) => parts.flatMap((p, k) => p.head.decode(activate(p.head.task, [rows[i].slice(offsets[k], offsets[k] + p.head.units)]))[0])),
    slices: (rows) => parts.map((_, k) => sliceOf(rows, k)),
    scores(trainIdx, train, valIdx, val) {
      const each = parts.map((p, k) => p.head.scores(trainIdx.map((i) => p.train[i]), sliceOf(train, k), valIdx.map((i) => p.val[i]), sliceOf(val, k)));
      const total = (pick: (s: EpochScores) => number) => each.reduce((a, s, k) => a + parts[k].weight * (pick(s) / scale[k] ** 2), 0);
      const lead = each[Math.max(0, monitored)];
      return { train_loss: total((s) => s.train_loss), val_loss: total((s) => s.val_loss), train: lead.train, val: lead.val, score: monitored < 0 ? -total((s) => s.val_loss) : lead.score };
    },
  };
}

/** A regression head's target spread (what `decode` multiplies by). */
function regressionSpread(head: Head): number {
  const [zero, one] = head.decode([[0], [1]]).map((r) => r[0]);
  return one - zero || 1;
}

/**
 * Each image's loss under a head (a vector over the batch), for losses weighed per image:
 * the same losses the head trains on, without their mean over the batch.
 */
export function perImageLoss(head: Head & { rowLoss?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor }): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  if (head.rowLoss) return head.rowLoss;
  if (head.loss === 'binaryCrossentropy') return (t, p) => tf.metrics.binaryCrossentropy(t, p);
  if (head.loss === 'categoricalCrossentropy') return (t, p) => tf.metrics.categoricalCrossentropy(t, p);
  if (head.loss === 'meanSquaredError') return (t, p) => tf.square(t.sub(p)).mean(1);
  return (t, p) => tf.losses.huberLoss(t, p, undefined, 1, tf.Reduction.NONE).mean(1);
}
