import { sobolPoints } from '../sobol.js';
import type { SearchMethod } from './method.js';

/** The unscrambled Sobol sequence (scipy's qmc.Sobol(scramble=False)): space-filling, no seed. */
export const sobol: SearchMethod = {
  name: 'sobol',
  counted: true,
  trials(space, count) {
    return sobolPoints(space.length, count).map((point) => space.map((dim, j) => dim.at(point[j])));
  },
};
