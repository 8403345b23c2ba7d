import type { SearchMethod } from './method.js';
import { random } from './random.js';

/**
 * Successive halving: the trials are random's draws (same seed, same trials); rung 0 trains
 * them all for the smallest budget and each later rung the best 1/eta of the one before
 * (src/spec/search/rungs.ts lays the rungs out).
 */
export const halving: SearchMethod = { name: 'halving', counted: true, rungs: true, trials: random.trials };
