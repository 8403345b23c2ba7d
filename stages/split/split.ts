import { rng, shuffle } from '../runtime/rng.js';
import type { Sample } from '../runtime/manifest.js';
import type { Task } from '../runtime/dataset-task.js';
import { assignBins, quantileEdges } from '../metrics/bins.js';

export type Stratify = 'label' | 'label_source';

export interface Split {
  /** What the labels are (absent in splits written before tasks existed: binary). */
  task?: Task;
  seed: number;
  folds: number;
  stratify: Stratify;
  /** Every sample with its validation fold. */
  samples: (Sample & { fold: number })[];
  /** Training groups of each fold in subsampling order: a fraction p keeps a prefix, so 20% ⊂ 50% ⊂ 100%. */
  order: Record<string, number>;
}

/**
 * Stratified, group-aware k-fold: whole groups are dealt to folds, each to the fold where it
 * keeps the per-stratum counts most even (the StratifiedGroupKFold idea), largest groups first,
 * ties broken by a seeded shuffle. No group ever sits in two folds.
 */
export function makeSplit(samples: readonly Sample[], folds: number, seed: number, stratify: Stratify, task: Task = 'binary'): Split {
  // A regression target is stratified by its quantile bin (one per fold), a class by itself.
  const edges = task === 'regression' ? quantileEdges(samples.map((s) => s.label), folds) : [];
  const classOf = (s: Sample) => (task === 'regression' ? `bin${assignBins([s.label], edges)[0]}` : String(s.label));
  const stratum = (s: Sample) => (stratify === 'label' ? classOf(s) : `${classOf(s)}:${s.source}`);
  const strata = [...new Set(samples.map(stratum))].sort();
  const byGroup = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byGroup.get(s.group) ?? [];
    list.push(s);
    byGroup.set(s.group, list);
  }
  const random = rng(seed);
  const groups = shuffle([...byGroup.keys()].sort(), random).sort((a, b) => byGroup.get(b)!.length - byGroup.get(a)!.length);
  const counts = Array.from({ length: folds }, () => new Map<string, number>(strata.map((s) => [s, 0])));
  const sizes = new Array<number>(folds).fill(0);
  const foldOf = new Map<string, number>();
  for (const group of groups) {
    const members = byGroup.get(group)!;
    const add = new Map<string, number>();
    for (const s of members) add.set(stratum(s), (add.get(stratum(s)) ?? 0) + 1);
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f < folds; f++) {
      let cost = 0;
      for (const st of strata) {
        for (let g = 0; g < folds; g++) {
          const c = counts[g].get(st)! + (g === f ? add.get(st) ?? 0 : 0);
          cost += c * c;
        }
      }
      if (cost < bestCost || (cost === bestCost && sizes[f] < sizes[best])) {
        best = f;
        bestCost = cost;
      }
    }
    foldOf.set(group, best);
    sizes[best] += members.length;
    for (const [st, n] of add) counts[best].set(st, counts[best].get(st)! + n);
  }
  const order: Record<string, number> = {};
  shuffle([...byGroup.keys()].sort(), rng(seed + 1)).forEach((g, i) => (order[g] = i));
  return { seed, folds, stratify, samples: samples.map((s) => ({ ...s, fold: foldOf.get(s.group)! })), order };
}

/**
 * The training samples of `fold` at `fraction` of its training groups, optionally without one
 * source (a hold-out probe). Groups are taken in the split's fixed order, so smaller fractions
 * are subsets of larger ones and fold assignment never changes.
 */
export function trainingSet(split: Split, fold: number, fraction = 1, holdoutSource?: string): Sample[] {
  const groups = [...new Set(split.samples.filter((s) => s.fold !== fold).map((s) => s.group))].sort((a, b) => split.order[a] - split.order[b]);
  const keep = new Set(groups.slice(0, Math.max(1, Math.round(groups.length * fraction))));
  return split.samples.filter((s) => s.fold !== fold && keep.has(s.group) && s.source !== holdoutSource);
}

export function validationSet(split: Split, fold: number): Sample[] {
  return split.samples.filter((s) => s.fold === fold);
}
