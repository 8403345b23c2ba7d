import { UserError, type Where } from '../../errors.js';
import { isPlainObject } from '../params.js';

/** One param of a search space: where a unit coordinate maps to, and its values on a grid. */
export interface Dimension {
  /** The dotted param key (`train.lr`). */
  key: string;
  distribution: Distribution;
  /** The value at u in [0, 1) (random and Sobol points). */
  at(u: number): unknown;
  /** Every value, for a grid; undefined for a continuous range. */
  grid?: unknown[];
}

export const DISTRIBUTIONS = ['choice', 'uniform', 'loguniform', 'int', 'quniform'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

const range = (key: string, name: string, value: unknown, where: Where, size = 2): number[] => {
  if (!Array.isArray(value) || value.length !== size || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new UserError(`search.space.${key}: ${name} takes [${size === 3 ? 'low, high, step' : 'low, high'}] as numbers (got ${JSON.stringify(value)})`, where);
  }
  const [low, high] = value as number[];
  if (!(low < high)) throw new UserError(`search.space.${key}: ${name}: [${low}, ${high}] is an empty range (low must be below high)`, where);
  return value as number[];
};

/** A `space:` entry (`train.lr: { loguniform: [1e-4, 1e-2] }`) as a dimension, or a file:line error saying what would be valid. */
export function parseDimension(key: string, spec: unknown, where: Where): Dimension {
  const entries = isPlainObject(spec) ? Object.entries(spec) : [];
  if (entries.length !== 1) throw new UserError(`search.space.${key}: one distribution, e.g. { loguniform: [0.0001, 0.01] } (${DISTRIBUTIONS.join(', ')})`, where);
  const [name, value] = entries[0];
  switch (name) {
    case 'choice': {
      if (!Array.isArray(value) || value.length === 0) throw new UserError(`search.space.${key}: choice takes a non-empty list of values (got ${JSON.stringify(value)})`, where);
      return { key, distribution: name, at: (u) => value[Math.min(value.length - 1, Math.floor(u * value.length))], grid: value };
    }
    case 'uniform': {
      const [low, high] = range(key, name, value, where);
      return { key, distribution: name, at: (u) => low + u * (high - low) };
    }
    case 'loguniform': {
      const [low, high] = range(key, name, value, where);
      if (low <= 0) throw new UserError(`search.space.${key}: loguniform needs a positive range (got [${low}, ${high}]); uniform takes zero and negatives`, where);
      return { key, distribution: name, at: (u) => Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low))) };
    }
    case 'int': {
      const [low, high] = range(key, name, value, where);
      if (!Number.isInteger(low) || !Number.isInteger(high)) throw new UserError(`search.space.${key}: int takes whole bounds (got [${low}, ${high}])`, where);
      const values = Array.from({ length: high - low + 1 }, (_, i) => low + i);
      return { key, distribution: name, at: (u) => values[Math.min(values.length - 1, Math.floor(u * values.length))], grid: values };
    }
    case 'quniform': {
      const [low, high, step] = range(key, name, value, where, 3);
      if (!(step > 0)) throw new UserError(`search.space.${key}: quniform's step must be positive (got ${step})`, where);
      const count = Math.floor((high - low) / step + 1e-9) + 1;
      // Rounded to the step's decimals, so 0.1 + 2 x 0.1 is 0.3, as written.
      const decimals = Math.max(0, ...[low, step].map((v) => (String(v).split('.')[1] ?? '').length));
      const values = Array.from({ length: count }, (_, i) => Number((low + i * step).toFixed(decimals)));
      return { key, distribution: name, at: (u) => values[Math.min(values.length - 1, Math.floor(u * values.length))], grid: values };
    }
    default:
      throw new UserError(`search.space.${key}: unknown distribution "${name}" (valid: ${DISTRIBUTIONS.join(', ')})`, where);
  }
}
