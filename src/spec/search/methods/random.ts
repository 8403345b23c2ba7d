import type { SearchMethod } from './method.js';

/** mulberry32: a small seeded generator whose stream is the same on every machine. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent uniform draws from one seeded stream, a trial's coordinates one after another. */
export const random: SearchMethod = {
  name: 'random',
  counted: true,
  trials(space, count, seed) {
    const next = generator(seed);
    return Array.from({ length: count }, () => space.map((dim) => dim.at(next())));
  },
};
