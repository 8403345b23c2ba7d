import { incompleteBeta } from './stats.js';

/** A one-way analysis of variance of a metric across the groups of one param. */
export interface OneWayAnova {
  f: number;
  p: number;
  dfBetween: number;
  dfWithin: number;
  /** Share of the metric's variance between the groups: SS_between / SS_total (eta squared). */
  etaSquared: number;
}

/** The F distribution's upper tail, through the regularised incomplete beta. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/**
 * Fisher's one-way ANOVA (scipy.stats.f_oneway; statsmodels' anova_lm of `metric ~ C(group)`
 * gives the same sums of squares). Groups of one value leave no variance within; NaN when
 * nothing varies.
 */
export function oneWayAnova(groups: readonly (readonly number[])[]): OneWayAnova {
  const filled = groups.filter((g) => g.length > 0);
  const all = filled.flat();
  const grand = all.reduce((a, b) => a + b, 0) / all.length;
  let between = 0;
  let within = 0;
  for (const g of filled) {
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    between += g.length * (m - grand) ** 2;
    for (const v of g) within += (v - m) ** 2;
  }
  const dfBetween = filled.length - 1;
  const dfWithin = all.length - filled.length;
  const total = between + within;
  const f = dfBetween > 0 && dfWithin > 0 && within > 0 ? between / dfBetween / (within / dfWithin) : Number.NaN;
  return { f, p: Number.isNaN(f) ? Number.NaN : fSurvival(f, dfBetween, dfWithin), dfBetween, dfWithin, etaSquared: total > 0 ? between / total : Number.NaN };
}
