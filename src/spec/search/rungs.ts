import { UserError, type SourceLocation } from '../../errors.js';
import { isPlainObject } from '../params.js';
import type { PathSegment } from '../yaml-source.js';
import type { RawSearch } from './trials.js';

/**
 * A search trained in rungs: successive halving (Jamieson and Talwalkar; Hyperband's inner
 * loop), and/or the best trial trained again on more folds (`refit`). Rung r trains `keep[r]`
 * trials with `budgets[r]` of `param`; each rung's selection names the trials of the next.
 */
export interface Rungs extends Ranking {
  /** The budget param (`train.epochs`) and its value per rung; empty without halving. */
  param?: string;
  budgets: (number | undefined)[];
  /** How many trials rung r trains. */
  counts: number[];
  eta: number;
  /** Matrix values for the best trial's instances (`{ fold: [0, 1, 2, 3, 4] }`). */
  refit?: Record<string, unknown[]>;
}

/** Metrics a search minimises; every other one (auc, accuracy, r2, ...) it maximises. */
const LOWER_IS_BETTER = /(^|_)(loss|mae|rmse|mse|mape|error)$/;

type Locate = (at: PathSegment[], key?: boolean) => SourceLocation;

/** How a search's trials are ranked and where the ranking is written: every search has one, a plain one a single rung. */
export interface Ranking {
  metric: string;
  mode: 'max' | 'min';
  /** Folder of the selections (`rung0.json`, ..., `best.json`). */
  results: string;
}

export function rankingOf(stage: string, search: RawSearch): Ranking {
  const metric = search.metric === undefined ? 'auc' : String(search.metric);
  const results = search.results === undefined ? `outputs/search/${stage}` : String(search.results).replace(/\/+$/, '');
  return { metric, mode: LOWER_IS_BETTER.test(metric) ? 'min' : 'max', results };
}

export function planRungs(stage: string, search: RawSearch, halving: boolean, trials: number, locate: Locate): Rungs | undefined {
  const at = (...path: PathSegment[]) => () => locate(['search', ...path]);
  if (!halving && search.refit === undefined) {
    for (const key of ['eta', 'budget'] as const) if (search[key] !== undefined) throw new UserError(`search.${key} belongs to method: halving`, at(key));
    return undefined;
  }
  let refit: Record<string, unknown[]> | undefined;
  if (search.refit !== undefined) {
    if (!isPlainObject(search.refit) || Object.values(search.refit).some((v) => !Array.isArray(v) || v.length === 0)) {
      throw new UserError('search.refit gives matrix values for the best trial, e.g. refit: { fold: [0, 1, 2, 3, 4] }', at('refit'));
    }
    refit = search.refit as Record<string, unknown[]>;
  }
  const base = { eta: 1, ...rankingOf(stage, search), ...(refit ? { refit } : {}) };
  if (!halving) return { ...base, budgets: [undefined], counts: [trials] };

  const eta = search.eta === undefined ? 3 : search.eta;
  if (!Number.isInteger(eta) || (eta as number) < 2) throw new UserError(`search.eta: a whole number >= 2, the factor each rung keeps 1/eta of the trials by (got ${JSON.stringify(eta)})`, at('eta'));
  const budget = search.budget as { param?: unknown; min?: unknown; max?: unknown } | undefined;
  if (!isPlainObject(budget) || typeof budget.param !== 'string' || typeof budget.min !== 'number' || typeof budget.max !== 'number') {
    throw new UserError('search.budget: halving needs { param: train.epochs, min: <first rung>, max: <last rung> }', budget === undefined ? at() : at('budget'));
  }
  const { min, max } = budget as { min: number; max: number };
  if (!(min > 0) || !(max >= min)) throw new UserError(`search.budget: min and max must be positive with min <= max (got ${min}, ${max})`, at('budget'));
  // max = min x eta^k exactly, or the last rung would not get the budget written.
  const steps = Math.round(Math.log(max / min) / Math.log(eta as number));
  if (Math.abs(min * (eta as number) ** steps - max) > 1e-9 * max) {
    const below = min * (eta as number) ** Math.floor(Math.log(max / min) / Math.log(eta as number));
    throw new UserError(`search.budget: max ${max} is not min ${min} times a power of eta ${eta}, so the rungs do not reach it (e.g. max: ${below} or ${below * (eta as number)})`, at('budget', 'max'));
  }
  const budgets = Array.from({ length: steps + 1 }, (_, r) => min * (eta as number) ** r);
  const counts = [trials];
  for (let r = 1; r <= steps; r++) counts.push(Math.max(1, Math.floor(counts[r - 1] / (eta as number))));
  if (counts[steps] === 1 && steps > 0 && counts[steps - 1] === 1) {
    throw new UserError(`search: ${trials} trials run out after ${counts.indexOf(1) + 1} rungs of eta ${eta}; raise trials to at least ${(eta as number) ** steps} or lower budget.max`, at('trials'));
  }
  return { ...base, eta: eta as number, param: budget.param, budgets, counts };
}
