import { canonicalJson } from '../../canonical-json.js';
import { UserError, type SourceLocation } from '../../errors.js';
import { sha256Text } from '../../hash/sha256.js';
import { ConfigRef } from '../interpolate.js';
import { isPlainObject, setParam, type ParamTree } from '../params.js';
import type { PathSegment } from '../yaml-source.js';
import { searchMethods } from './methods/registry.js';
import { SOBOL_MAX_DIMS } from './sobol.js';
import { parseDimension } from './space.js';
import { planRungs, type Rungs } from './rungs.js';

/** A stage's `search:` block as written. */
export interface RawSearch {
  base?: unknown;
  method?: unknown;
  trials?: unknown;
  seed?: unknown;
  space?: unknown;
  /** halving: the factor, the budget param and its range, the ranking metric. */
  eta?: unknown;
  budget?: unknown;
  metric?: unknown;
  /** The best trial trained again with these matrix values. */
  refit?: unknown;
  /** Where each rung's selection is written. */
  results?: unknown;
}

/** What a search expands to: the config every trial starts from and one value set per trial. */
export interface SearchPlan {
  base: string;
  /**
   * One entry per trial, as the matrix key `trial`: `${trial.name}` is a name derived from its
   * values (`t3f9a1c2e`), `${trial.<key>}` its values; the dotted keys are set over `base`.
   */
  trials: ConfigRef[];
  /** Set when the trials train in rungs (halving, refit). */
  rungs?: Rungs;
}

type Locate = (at: PathSegment[], key?: boolean) => SourceLocation;

/** The trials of a search, each named by a hash of its values so it keeps its id (and cache) however the search grows. */
export function planSearch(stage: string, search: RawSearch, locate: Locate): SearchPlan {
  const at = (...path: PathSegment[]) => () => locate(['search', ...path]);
  if (typeof search.base !== 'string' || search.base === '') throw new UserError('search.base names the config every trial starts from (e.g. base: configs/phase1/cnn.yaml)', at());
  const method = searchMethods.get(String(search.method));
  if (!method) throw new UserError(`search.method: ${JSON.stringify(search.method)} is not a search method (valid: ${[...searchMethods.keys()].join(', ')})`, search.method === undefined ? at() : at('method'));
  if (!isPlainObject(search.space) || Object.keys(search.space).length === 0) throw new UserError('search.space maps params to distributions, e.g. train.lr: { loguniform: [0.0001, 0.01] }', at());
  const space = Object.entries(search.space).map(([key, spec]) => parseDimension(key, spec, at('space', key)));
  if (method.counted) {
    if (!Number.isInteger(search.trials) || (search.trials as number) < 1) throw new UserError(`search.trials: method ${method.name} needs how many trials, a whole number >= 1 (got ${JSON.stringify(search.trials)})`, search.trials === undefined ? at() : at('trials'));
  } else {
    if (search.trials !== undefined) throw new UserError(`search.trials: a grid's trials are every combination of its values; leave trials out (or method: random / sobol for a number of them)`, at('trials'));
    const continuous = space.find((dim) => !dim.grid);
    if (continuous) throw new UserError(`search.space.${continuous.key}: ${continuous.distribution} has no grid; on a grid use choice, int or quniform`, at('space', continuous.key));
  }
  if (method.name === 'sobol' && space.length > SOBOL_MAX_DIMS) throw new UserError(`search.space: Sobol points in at most ${SOBOL_MAX_DIMS} dimensions (got ${space.length})`, at('space'));
  if (search.seed !== undefined && !Number.isInteger(search.seed)) throw new UserError(`search.seed must be a whole number (got ${JSON.stringify(search.seed)})`, at('seed'));
  const seen = new Set<string>();
  const trials: ConfigRef[] = [];
  for (const values of method.trials(space, Number(search.trials ?? 0), Number(search.seed ?? 0))) {
    const dotted = Object.fromEntries(space.map((dim, j) => [dim.key, values[j]]));
    const name = `t${sha256Text(canonicalJson(dotted)).slice(0, 8)}`;
    // A small space drawn at random repeats itself: one trial per distinct set of values.
    if (seen.has(name)) continue;
    seen.add(name);
    const tree = Object.entries(dotted).reduce<ParamTree>((acc, [key, value]) => setParam(acc, key, value), {});
    trials.push(new ConfigRef(name, name, tree, []));
  }
  const rungs = planRungs(stage, search, method.rungs === true, trials.length, locate);
  return { base: search.base, trials, ...(rungs ? { rungs } : {}) };
}

/** A trial's values as the dotted keys `set:` takes. */
export function trialSettings(trial: ConfigRef, plan: RawSearch): Record<string, unknown> {
  return Object.fromEntries(Object.keys(plan.space as Record<string, unknown>).map((key) => [key, key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], trial.config)]));
}
