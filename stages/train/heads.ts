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
