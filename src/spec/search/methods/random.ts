import { rng } from '../../../../stages/runtime/rng.js';
import type { SearchMethod } from './method.js';

/** Independent uniform draws from one seeded stream (mulberry32: the same on every machine), a trial's coordinates one after another. */
export const random: SearchMethod = {
  name: 'random',
  counted: true,
  trials(space, count, seed) {
    const next = rng(seed);
    return Array.from({ length: count }, () => space.map((dim) => dim.at(next())));
  },
};
