import type { Dimension } from '../space.js';

/** How a search picks its trials: each method is one file in this folder plus a line in registry.ts. */
export interface SearchMethod {
  name: string;
  /** Whether `trials:` is required (random, sobol) or refused (grid: the product is the trials). */
  counted: boolean;
  /** Trained in rungs of growing budget, each promoting the best of the last (halving). */
  rungs?: boolean;
  /**
   * The trials' values, one array per trial in dimension order. A prefix is stable: asking for
   * more trials keeps the first ones, so raising `trials` only adds instances.
   */
  trials(space: readonly Dimension[], count: number, seed: number): unknown[][];
}
