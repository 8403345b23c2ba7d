import { assignBins, quantileEdges } from './bins.js';

/** Regression metrics, defined as scikit-learn defines them (pinned by test fixtures). */
export interface RegressionMetrics {
  mae: number;
  mse: number;
  rmse: number;
  r2: number;
  /** Mean absolute percentage error (a fraction, as sklearn returns it); null when targets come near zero. */
  mape: number | null;
  n: number;
}

/** |y| below this share of the targets' median |y| makes a percentage error meaningless. */
export const MAPE_GUARD = 0.01;

export function regressionMetrics(targets: readonly number[], predictions: readonly number[]): RegressionMetrics {
  const n = targets.length;
  const errors = targets.map((y, i) => predictions[i] - y);
  const mae = errors.reduce((a, e) => a + Math.abs(e), 0) / n;
  const mse = errors.reduce((a, e) => a + e * e, 0) / n;
  const mean = targets.reduce((a, b) => a + b, 0) / n;
  const ssTot = targets.reduce((a, y) => a + (y - mean) ** 2, 0);
  const ssRes = errors.reduce((a, e) => a + e * e, 0);
  // sklearn's r2_score with force_finite: a constant target scores 1 when predicted exactly, else 0.
  const r2 = ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
  return { mae, mse, rmse: Math.sqrt(mse), r2, mape: mapeGuarded(targets, predictions), n };
}

/**
 * sklearn's mean_absolute_percentage_error, or null where a percentage error means nothing:
 * targets of both signs, or some |y| under MAPE_GUARD x the median |y| (or zero).
 */
export function mapeGuarded(targets: readonly number[], predictions: readonly number[]): number | null {
  if (targets.some((y) => y < 0) && targets.some((y) => y > 0)) return null;
  const magnitudes = targets.map(Math.abs).sort((a, b) => a - b);
  const median = magnitudes[Math.floor((magnitudes.length - 1) / 2)];
  if (magnitudes[0] === 0 || magnitudes[0] < MAPE_GUARD * median) return null;
  return mape(targets, predictions);
}

export function mape(targets: readonly number[], predictions: readonly number[]): number {
  const eps = 2.220446049250313e-16;
  return targets.reduce((a, y, i) => a + Math.abs(predictions[i] - y) / Math.max(Math.abs(y), eps), 0) / targets.length;
}

/** The metrics per quantile bin of the target (or per given edges): "age groups". */
export function regressionByBin(targets: readonly number[], predictions: readonly number[], bins = 4, edges?: readonly number[]): { bin: number; lo: number | null; hi: number | null; metrics: RegressionMetrics }[] {
  const cut = edges ? [...edges].sort((a, b) => a - b) : quantileEdges(targets, bins);
  const at = assignBins(targets, cut);
  return Array.from({ length: cut.length + 1 }, (_, b) => {
    const idx = at.flatMap((v, i) => (v === b ? [i] : []));
    return { bin: b, lo: b === 0 ? null : cut[b - 1], hi: b === cut.length ? null : cut[b], metrics: regressionMetrics(idx.map((i) => targets[i]), idx.map((i) => predictions[i])) };
  }).filter((b) => b.metrics.n > 0);
}
