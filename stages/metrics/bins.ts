import { logLoss, rocAuc } from './metrics.js';
import { meanCi } from './stats.js';

/** The 97.5% point of the standard normal: two-sided 95% intervals. */
const Z95 = 1.959963984540054;

/** numpy.quantile's default (linear interpolation between order statistics). */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Inner edges that cut `values` into `bins` equal-count bins (pandas.qcut's), repeated edges dropped. */
export function quantileEdges(values: readonly number[], bins: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges = Array.from({ length: bins - 1 }, (_, i) => quantile(sorted, (i + 1) / bins));
  return edges.filter((e, i) => i === 0 || e !== edges[i - 1]).filter((e) => e > sorted[0] && e < sorted[sorted.length - 1]);
}

/** The bin of each value: edges are right-inclusive upper bounds (pandas.cut's right=True), so bin i holds (e[i-1], e[i]]. */
export function assignBins(values: readonly number[], edges: readonly number[]): number[] {
  return values.map((v) => {
    let bin = 0;
    while (bin < edges.length && v > edges[bin]) bin++;
    return bin;
  });
}

/** Wilson's score interval for a proportion (statsmodels' proportion_confint(method='wilson')). */
export function wilson(successes: number, n: number): { lo: number; hi: number } {
  if (n === 0) return { lo: NaN, hi: NaN };
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: centre - half, hi: centre + half };
}

/**
 * DeLong's variance of the ROC AUC (structural components over every positive-negative pair),
 * and a 95% interval on the logit scale so it stays inside [0, 1]. NaN when a class is missing.
 */
export function aucInterval(labels: readonly number[], scores: readonly number[]): { auc: number; se: number; lo: number; hi: number } {
  const pos = scores.filter((_, i) => labels[i] === 1);
  const neg = scores.filter((_, i) => labels[i] !== 1);
  const auc = rocAuc(labels, scores);
  if (pos.length < 2 || neg.length < 2) return { auc, se: NaN, lo: NaN, hi: NaN };
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = pos.map((x) => neg.reduce((a, y) => a + psi(x, y), 0) / neg.length);
  const v01 = neg.map((y) => pos.reduce((a, x) => a + psi(x, y), 0) / pos.length);
  const variance = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
  };
  const se = Math.sqrt(variance(v10) / pos.length + variance(v01) / neg.length);
  const clipped = Math.min(1 - 1e-6, Math.max(1e-6, auc));
  const centre = Math.log(clipped / (1 - clipped));
  const half = (Z95 * se) / (clipped * (1 - clipped));
  const expit = (z: number) => 1 / (1 + Math.exp(-z));
  return { auc, se, lo: expit(centre - half), hi: expit(centre + half) };
}

export interface BinStats {
  n: number;
  positives: number;
  auc: { value: number; lo: number; hi: number };
  accuracy: { value: number; lo: number; hi: number };
  log_loss: { value: number; lo: number; hi: number };
}

/** One bin's metrics with 95% intervals: AUC (DeLong, logit scale), accuracy at the calls made (Wilson), log loss (t over images). */
export function binStats(labels: readonly number[], probs: readonly number[], preds: readonly number[]): BinStats {
  const auc = aucInterval(labels, probs);
  const correct = labels.filter((y, i) => preds[i] === y).length;
  const losses = labels.map((y, i) => logLoss([y], [probs[i]]));
  const loss = labels.length > 1 ? meanCi(losses) : { mean: labels.length ? losses[0] : NaN, lo: NaN, hi: NaN };
  return {
    n: labels.length,
    positives: labels.filter((y) => y === 1).length,
    auc: { value: auc.auc, lo: auc.lo, hi: auc.hi },
    accuracy: { value: labels.length ? correct / labels.length : NaN, ...wilson(correct, labels.length) },
    log_loss: { value: loss.mean, lo: loss.lo, hi: loss.hi },
  };
}
