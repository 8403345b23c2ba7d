import { rocAuc } from './metrics.js';

/** Multi-class metrics, defined as scikit-learn defines them (pinned by test fixtures). Labels are 0..K-1, probs one row of K per sample. */
export interface MulticlassMetrics {
  accuracy: number;
  balanced_accuracy: number;
  f1_macro: number;
  f1_weighted: number;
  /** Mean over classes of the one-vs-rest ROC AUC (roc_auc_score(multi_class='ovr', average='macro')). */
  auc_ovr_macro: number;
  log_loss: number;
  precision: number[];
  recall: number[];
  /** K x K counts: rows the true class, columns the predicted one. */
  confusion: number[][];
  n: number;
}

export const argmax = (row: readonly number[]) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

export function confusionMatrix(labels: readonly number[], preds: readonly number[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  labels.forEach((y, i) => m[y][preds[i]]++);
  return m;
}

/** sklearn's log_loss: probabilities clipped to [eps, 1 - eps], rows renormalised, the true class's -log mean. */
export function multiclassLogLoss(labels: readonly number[], probs: readonly (readonly number[])[], eps = 2.220446049250313e-16): number {
  let sum = 0;
  labels.forEach((y, i) => {
    const clipped = probs[i].map((p) => Math.min(1 - eps, Math.max(eps, p)));
    const total = clipped.reduce((a, b) => a + b, 0);
    sum -= Math.log(clipped[y] / total);
  });
  return sum / labels.length;
}

export function multiclassMetrics(labels: readonly number[], probs: readonly (readonly number[])[], classes: number): MulticlassMetrics {
  const preds = probs.map(argmax);
  const confusion = confusionMatrix(labels, preds, classes);
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = confusion[0].map((_, k) => confusion.reduce((a, row) => a + row[k], 0));
  const precision = confusion.map((row, k) => (predicted[k] === 0 ? 0 : row[k] / predicted[k]));
  const recall = confusion.map((row, k) => (support[k] === 0 ? 0 : row[k] / support[k]));
  const f1 = precision.map((p, k) => (p + recall[k] === 0 ? 0 : (2 * p * recall[k]) / (p + recall[k])));
  const present = support.flatMap((s, k) => (s > 0 ? [k] : []));
  const n = labels.length;
  // sklearn's macro F1 averages over the labels seen in y_true or y_pred.
  const seen = support.flatMap((s, k) => (s > 0 || predicted[k] > 0 ? [k] : []));
  return {
    accuracy: labels.filter((y, i) => preds[i] === y).length / n,
    balanced_accuracy: present.reduce((a, k) => a + recall[k], 0) / present.length,
    f1_macro: seen.reduce((a, k) => a + f1[k], 0) / seen.length,
    f1_weighted: support.reduce((a, s, k) => a + s * f1[k], 0) / n,
    auc_ovr_macro: present.length === classes ? present.reduce((a, k) => a + rocAuc(labels.map((y) => (y === k ? 1 : 0)), probs.map((p) => p[k])), 0) / classes : NaN,
    log_loss: multiclassLogLoss(labels, probs),
    precision,
    recall,
    confusion,
    n,
  };
}
