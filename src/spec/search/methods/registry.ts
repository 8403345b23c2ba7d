import { grid } from './grid.js';
import { halving } from './halving.js';
import type { SearchMethod } from './method.js';
import { random } from './random.js';
import { sobol } from './sobol.js';

/** Every search method by name: a new one is a file in this folder plus one line here. */
export const searchMethods: ReadonlyMap<string, SearchMethod> = new Map([grid, random, sobol, halving].map((m) => [m.name, m]));
