import type { SearchMethod } from './method.js';

/** Every combination of the dimensions' values (choice, int, quniform), the last dimension fastest. */
export const grid: SearchMethod = {
  name: 'grid',
  counted: false,
  trials(space) {
    let combos: unknown[][] = [[]];
    for (const dim of space) combos = combos.flatMap((combo) => dim.grid!.map((value) => [...combo, value]));
    return combos;
  },
};
