import * as tf from '@tensorflow/tfjs';
import { groupBy } from '../metrics/group-metrics.js';
import { manifestColumns, readManifestColumn, type Sample } from '../runtime/manifest.js';
import { StageError } from '../runtime/stage.js';

/** `train.balance` as written. */
export interface BalanceSpec {
  /** label, source, or a manifest column (an image property, a grouping such as age). */
  by: string;
  method: 'oversample' | 'weights';
  /** A numeric column's inner bin edges, or `bins` equal-count bins (default 4). */
  edges?: number[];
  bins?: number;
}

/** The training images' groups, and what rebalancing makes of them (metrics.json's `balance`). */
export interface Balance {
  by: string;
  method: BalanceSpec['method'];
  groups: { group: string; n: number; per_epoch: number; weight: number }[];
  /** The group of each training sample. */
  groupOf: number[];
}

/**
 * Groups the training images by `by` and plans the rebalancing: `oversample` draws each
 * smaller group up to the largest one's count every epoch (the extra copies get their own
 * augmentation draws); `weights` weighs each image's loss by N / (groups x n_group),
 * scikit-learn's `balanced` class weights.
 */
export function planBalance(spec: BalanceSpec, trainSet: readonly Sample[], dataDir: string): Balance {
  const column = spec.by === 'label' || spec.by === 'source' ? undefined : readManifestColumn(dataDir, spec.by);
  if (spec.by !== 'label' && spec.by !== 'source' && !column) throw new StageError(`train.balance.by: ${spec.by} is not label, source or a column of ${dataDir}/manifest.csv (it has: ${manifestColumns(dataDir).join(', ')})`);
  const values = trainSet.map((s) => (spec.by === 'label' ? String(s.label) : spec.by === 'source' ? s.source : column!.get(s.path)));
  const missing = trainSet.filter((_, i) => values[i] === undefined || values[i]!.trim() === '');
  if (missing.length) throw new StageError(`train.balance.by: ${spec.by} is empty for ${missing.length} training images (${missing.slice(0, 5).map((s) => s.path).join(', ')}${missing.length > 5 ? ', ...' : ''})`);
  const grouping = groupBy(values, { ...(spec.edges ? { edges: spec.edges } : {}), ...(spec.bins ? { bins: spec.bins } : {}) });
  const counts = grouping.labels.map((_, g) => grouping.group.filter((x) => x === g).length);
  const present = counts.filter((n) => n > 0).length;
  const largest = Math.max(...counts);
  return {
    by: spec.by,
    method: spec.method,
    groupOf: grouping.group,
    groups: grouping.labels.flatMap((group, g) =>
      counts[g] === 0 ? [] : [{ group, n: counts[g], per_epoch: spec.method === 'oversample' ? largest : counts[g], weight: spec.method === 'weights' ? trainSet.length / (present * counts[g]) : 1 }],
    ),
  };
}

/** One epoch's training order: every image, plus (oversample) draws from the run's stream that fill each group up to the largest. */
export function balancedOrder(balance: Balance | undefined, size: number, random: () => number): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (!balance || balance.method !== 'oversample') return all;
  const largest = Math.max(...balance.groups.map((g) => g.n));
  const members = new Map<number, number[]>();
  balance.groupOf.forEach((g, i) => members.set(g, [...(members.get(g) ?? []), i]));
  for (const list of [...members.keys()].sort((a, b) => a - b).map((g) => members.get(g)!)) {
    for (let k = list.length; k < largest; k++) all.push(list[Math.floor(random() * list.length)]);
  }
  return all;
}

/**
 * The loss with each image weighed by its group (method `weights`): each image's loss times
 * its weight, over the batch's mean weight, so a batch's loss is sum(w l) / sum(w).
 */
export function weightedLoss(rowLoss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, balance: Balance, batch: () => readonly number[]): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  // balance.groups lists the groups that have images, in group order.
  const byGroup = new Map<number, number>();
  let k = 0;
  for (const g of [...new Set(balance.groupOf)].sort((a, b) => a - b)) byGroup.set(g, balance.groups[k++].weight);
  return (yTrue, yPred) => {
    const weights = batch().map((sample) => byGroup.get(balance.groupOf[sample])!);
    const mean = weights.reduce((a, b) => a + b, 0) / weights.length;
    return tf.mean(rowLoss(yTrue, yPred).mul(tf.tensor1d(weights.map((w) => w / mean))));
  };
}
