import { ConfigRef, shellQuote, stringify, type Scope } from './interpolate.js';

/** One instance of a foreach/matrix stage: its id suffix and the names it brings into scope. */
export interface Entry {
  suffix: string;
  vars: Scope;
}

/**
 * Where pipeline.yaml and dvc.yaml read the same syntax differently. Each file keeps its own
 * meaning (README, "pipeline.yaml and dvc.yaml"): a DVC project runs unchanged, and ours keeps
 * what its users rely on.
 */
export interface Dialect {
  readonly name: 'pipeline.yaml' | 'dvc.yaml';
  /** A `${...}` value inside `cmd:`. */
  commandText(value: unknown): string;
  /** The instances of `foreach:` over a list. */
  listEntries(items: unknown[]): Entry[];
  /** The instance of one matrix combination, from its (key, value, index) triples. */
  matrixEntry(combo: [string, unknown, number][]): Entry;
  /** `${...}` reading params makes them params of the stage (DVC tracks them; ours lists them). */
  readonly tracksInterpolatedParams: boolean;
}

/** pipeline.yaml: values are shell-quoted in commands; matrix keys are names (`${model}`). */
export const pipelineDialect: Dialect = {
  name: 'pipeline.yaml',
  commandText: (value) => shellQuote(stringify(value)),
  listEntries: (items) => items.map((item) => ({ suffix: stringify(item), vars: { item } })),
  matrixEntry: (combo) => ({
    suffix: combo.map(([key, value]) => `${key}=${value instanceof ConfigRef ? value.name : stringify(value)}`).join(','),
    vars: Object.fromEntries(combo.map(([key, value]) => [key, value])),
  }),
  tracksInterpolatedParams: false,
};
