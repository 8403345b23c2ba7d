import { assignBins, binStats, quantileEdges, wilson } from './bins.js';
import { meanCi } from './stats.js';

/** How one grouping splits the images: by value (a text column), or into bins of a number. */
export interface Grouping {
  labels: string[];
  /** The group of each image, -1 where it has no value. */
  group: number[];
  /** Inner edges, when the column is numeric. */
  edges?: number[];
}

type Interval = { value: number; lo: number; hi: number };

/** One group's metrics of a target, each with its 95% interval. */
export interface GroupMetrics {
  group: string;
  n: number;
  /** binary: DeLong, logit scale. */
  auc?: Interval;
  /** binary and multi-class, at the calls made: Wilson. */
  accuracy?: Interval;
  /** regression: t interval of the absolute errors. */
  mae?: Interval;
  /** regression: the square root of the t interval of the squared errors. */
  rmse?: Interval;
}

/** At most this many distinct numbers group by value. */
const FEW_VALUES = 10;

const edgeLabel = (edges: readonly number[], i: number) => {
  const f = (v: number) => String(Number(v.toPrecision(4)));
  if (edges.length === 0) return 'all';
  if (i === 0) return `≤ ${f(edges[0])}`;
  if (i === edges.length) return `> ${f(edges[edges.length - 1])}`;
  return `(${f(edges[i - 1])}, ${f(edges[i])}]`;
};

/**
 * Groups from a column's values: numbers into bins by the edges given (pandas.cut's, right
 * closed) or `bins` equal-count ones (pandas.qcut's, 4 by default), text and up to 10
 * distinct numbers by value, in sorted order.
 */
export function groupBy(values: readonly (string | undefined)[], options: { edges?: number[]; bins?: number } = {}): Grouping {
  const known = values.filter((v): v is string => v !== undefined && v.trim() !== '');
  const numeric = known.length > 0 && known.every((v) => Number.isFinite(Number(v)));
  const distinct = [...new Set(known)];
  // A few numbers (0/1 labels, class ids) are values, not a range to bin, unless edges or bins say otherwise.
  if (!numeric || (options.edges === undefined && options.bins === undefined && distinct.length <= FEW_VALUES)) {
    const labels = numeric ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
    return { labels, group: values.map((v) => (v === undefined || v.trim() === '' ? -1 : labels.indexOf(v))) };
  }
  const nums = known.map(Number);
  const edges = options.edges ? [...options.edges].sort((a, b) => a - b) : quantileEdges(nums, options.bins ?? 4);
  const bins = assignBins(values.map((v) => (v === undefined || v.trim() === '' ? NaN : Number(v))), edges);
  return { labels: Array.from({ length: edges.length + 1 }, (_, i) => edgeLabel(edges, i)), group: values.map((v, i) => (v === undefined || v.trim() === '' ? -1 : bins[i])), edges };
}

const many = (v: number[]): { mean: number; lo: number; hi: number } => (v.length > 1 ? meanCi(v) : { mean: v[0] ?? NaN, lo: NaN, hi: NaN });

/** A binary target's AUC and accuracy per group. */
export function binaryByGroup(labels: readonly number[], probs: readonly number[], preds: readonly number[], grouping: Grouping): GroupMetrics[] {
  return grouping.labels.flatMap((name, g) => {
    const at = labels.flatMap((_, i) => (grouping.group[i] === g ? [i] : []));
    if (at.length === 0) return [];
    const s = binStats(at.map((i) => labels[i]), at.map((i) => probs[i]), at.map((i) => preds[i]));
    return [{ group: name, n: at.length, auc: s.auc, accuracy: s.accuracy }];
  });
}

/** A multi-class target's accuracy per group. */
export function multiclassByGroup(labels: readonly number[], preds: readonly number[], grouping: Grouping): GroupMetrics[] {
  return grouping.labels.flatMap((name, g) => {
    const at = labels.flatMap((_, i) => (grouping.group[i] === g ? [i] : []));
    if (at.length === 0) return [];
    const correct = at.filter((i) => preds[i] === labels[i]).length;
    return [{ group: name, n: at.length, accuracy: { value: correct / at.length, ...wilson(correct, at.length) } }];
  });
}

/** A regression target's MAE and RMSE per group. */
export function regressionByGroup(targets: readonly number[], preds: readonly number[], grouping: Grouping): GroupMetrics[] {
  return grouping.labels.flatMap((name, g) => {
    const at = targets.flatMap((_, i) => (grouping.group[i] === g ? [i] : []));
    if (at.length === 0) return [];
    const abs = many(at.map((i) => Math.abs(preds[i] - targets[i])));
    const sq = many(at.map((i) => (preds[i] - targets[i]) ** 2));
    return [{ group: name, n: at.length, mae: { value: abs.mean, lo: abs.lo, hi: abs.hi }, rmse: { value: Math.sqrt(sq.mean), lo: Number.isNaN(sq.lo) ? NaN : Math.sqrt(Math.max(0, sq.lo)), hi: Math.sqrt(sq.hi) } }];
  });
}

/** A regression target binned into groups, true group x predicted group (pandas.crosstab of pandas.cut of both). */
export function binnedConfusion(targets: readonly number[], preds: readonly number[], edges: readonly number[]): number[][] {
  const t = assignBins(targets, edges);
  const p = assignBins(preds, edges);
  const out = Array.from({ length: edges.length + 1 }, () => new Array<number>(edges.length + 1).fill(0));
  t.forEach((g, i) => out[g][p[i]]++);
  return out;
}
