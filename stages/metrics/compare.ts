import { correctedPairedTTest } from './stats.js';

/** An experiment's results as aggregate writes them, as far as a comparison reads them. */
export interface ComparedResults {
  folds?: number[];
  test_train_ratio?: number | null;
  metrics: Record<string, { mean: number; values?: number[] }>;
}

/** One metric of experiment A against B: both means, the change, and the corrected t-test where the folds pair. */
export interface MetricChange {
  metric: string;
  a: number;
  b: number;
  /** b - a. */
  change: number;
  /** (b - a) / |a|; null when a is 0. */
  relative: number | null;
  /** Nadeau and Bengio's corrected resampled t-test over the shared folds; absent when they do not pair. */
  test?: { p: number; t: number; folds: number };
}

/**
 * Metric by metric, as a study's v1-vs-v2 tables read: every metric both experiments report,
 * with the absolute and relative change, and the corrected t-test when both were scored on the
 * same folds (the same k, and the same fold ids where recorded).
 */
export function metricChanges(a: ComparedResults, b: ComparedResults): MetricChange[] {
  const paired = (x: number[] | undefined, y: number[] | undefined): boolean =>
    x !== undefined && y !== undefined && x.length === y.length && x.length >= 2 && (a.folds === undefined || b.folds === undefined || a.folds.join() === b.folds.join());
  return Object.keys(a.metrics)
    .filter((metric) => metric in b.metrics && Number.isFinite(a.metrics[metric].mean) && Number.isFinite(b.metrics[metric].mean))
    .map((metric) => {
      const [x, y] = [a.metrics[metric], b.metrics[metric]];
      const change = y.mean - x.mean;
      const out: MetricChange = { metric, a: x.mean, b: y.mean, change, relative: x.mean === 0 ? null : change / Math.abs(x.mean) };
      if (paired(x.values, y.values)) {
        const k = x.values!.length;
        const ratio = b.test_train_ratio ?? a.test_train_ratio ?? 1 / Math.max(1, k - 1);
        const test = correctedPairedTTest(y.values!, x.values!, ratio);
        out.test = { p: test.p, t: test.t, folds: k };
      }
      return out;
    });
}
