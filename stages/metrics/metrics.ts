/** Binary classification metrics, defined as scikit-learn defines them (pinned by test fixtures). */

/** ROC AUC via the Mann-Whitney U statistic with average ranks for ties (= roc_auc_score). */
export function rocAuc(labels: readonly number[], scores: readonly number[]): number {
  const n = labels.length;
  const order = [...Array(n).keys()].sort((a, b) => scores[a] - scores[b]);
  const ranks = new Array<number>(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      positives++;
      rankSum += ranks[i];
    }
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision (= average_precision_score): sum over thresholds of (R_n - R_{n-1}) P_n. */
export function averagePrecision(labels: readonly number[], scores: readonly number[]): number {
  const order = [...labels.keys()].sort((a, b) => scores[b] - scores[a]);
  const positives = labels.filter((l) => l === 1).length;
  if (positives === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let lastRecall = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    const last = i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]];
    if (!last) continue;
    const recall = tp / positives;
    ap += (recall - lastRecall) * (tp / (tp + fp));
    lastRecall = recall;
  }
  return ap;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(labels: readonly number[], scores: readonly number[], threshold = 0.5): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  labels.forEach((label, i) => {
    const predicted = scores[i] >= threshold ? 1 : 0;
    if (predicted === 1 && label === 1) c.tp++;
    else if (predicted === 1) c.fp++;
    else if (label === 1) c.fn++;
    else c.tn++;
  });
  return c;
}

/** Mean binary cross-entropy with probabilities clipped to [eps, 1 - eps] (= log_loss). */
export function logLoss(labels: readonly number[], scores: readonly number[], eps = 2.220446049250313e-16): number {
  let sum = 0;
  labels.forEach((label, i) => {
    const p = Math.min(1 - eps, Math.max(eps, scores[i]));
    sum += label === 1 ? -Math.log(p) : -Math.log(1 - p);
  });
  return sum / labels.length;
}

export interface BinaryMetrics {
  auc: number;
  pr_auc: number;
  accuracy: number;
  /** Mean of the two recalls: what accuracy means when the classes are unbalanced or the threshold is off. */
  balanced_accuracy: number;
  f1: number;
  precision: number;
  recall: number;
  log_loss: number;
  /** The threshold the thresholded metrics used (p >= threshold is positive). */
  threshold: number;
  n: number;
}

/** Every metric at once; thresholded ones use p >= threshold, undefined ratios are 0 (zero_division=0). */
export function binaryMetrics(labels: readonly number[], scores: readonly number[], threshold = 0.5): BinaryMetrics {
  const c = confusion(labels, scores, threshold);
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const specificity = c.tn + c.fp === 0 ? 0 : c.tn / (c.tn + c.fp);
  // sklearn's balanced_accuracy_score averages the recalls of the classes present.
  const present = [c.tp + c.fn, c.tn + c.fp].filter((n) => n > 0).length;
  return {
    auc: rocAuc(labels, scores),
    pr_auc: averagePrecision(labels, scores),
    accuracy: (c.tp + c.tn) / labels.length,
    balanced_accuracy: present === 0 ? 0 : (recall + specificity) / present,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    precision,
    recall,
    log_loss: logLoss(labels, scores),
    threshold,
    n: labels.length,
  };
}

/**
 * The threshold that maximises Youden's J (TPR - FPR, equivalently balanced accuracy) on the
 * given predictions, taken among the scores themselves as scikit-learn's roc_curve does, the
 * highest on ties. Chosen on a fold's training predictions, it is applied to its validation
 * images, so accuracy stops measuring calibration. 0.5 when one class is missing.
 */
export function youdenThreshold(labels: readonly number[], scores: readonly number[]): number {
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  const order = [...labels.keys()].sort((a, b) => scores[b] - scores[a]);
  let tp = 0;
  let fp = 0;
  let best = { j: -Infinity, threshold: 0.5 };
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    if (i < order.length - 1 && scores[order[i + 1]] === scores[order[i]]) continue;
    const j = tp / positives - fp / negatives;
    if (j > best.j) best = { j, threshold: scores[order[i]] };
  }
  return best.threshold;
}

/** ROC curve points (fpr, tpr) at every distinct threshold, for plots. */
export function rocCurve(labels: readonly number[], scores: readonly number[]): { fpr: number; tpr: number }[] {
  const order = [...labels.keys()].sort((a, b) => scores[b] - scores[a]);
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  const points = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    if (i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]]) points.push({ fpr: negatives ? fp / negatives : 0, tpr: positives ? tp / positives : 0 });
  }
  return points;
}
