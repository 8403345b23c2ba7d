import { SOBOL_POLY, SOBOL_VINIT } from './sobol-directions.js';

const BITS = 30;
export const SOBOL_MAX_DIMS = SOBOL_POLY.length;

/** The direction numbers V_k = m_k * 2^(BITS-1-k) of one dimension (Bratley and Fox's recurrence on its polynomial). */
function directions(dim: number): number[] {
  const m = new Array<number>(BITS);
  if (dim === 0) m.fill(1);
  else {
    const poly = SOBOL_POLY[dim];
    const s = Math.floor(Math.log2(poly));
    const init = SOBOL_VINIT[dim];
    for (let k = 0; k < s; k++) m[k] = init[k];
    for (let k = s; k < BITS; k++) {
      let value = m[k - s] ^ (m[k - s] << s);
      for (let l = 1; l < s; l++) if ((poly >> (s - l)) & 1) value ^= m[k - l] << l;
      m[k] = value;
    }
  }
  return m.map((v, k) => v * 2 ** (BITS - 1 - k));
}

/**
 * The first `n` points of the unscrambled Sobol sequence in `d` dimensions, equal to
 * scipy.stats.qmc.Sobol(d, scramble=False).random(n) (its first point is the origin), by
 * Antonov and Saleev's Gray-code order.
 */
export function sobolPoints(d: number, n: number): number[][] {
  if (d > SOBOL_MAX_DIMS) throw new Error(`Sobol points in ${d} dimensions: at most ${SOBOL_MAX_DIMS}`);
  const v = Array.from({ length: d }, (_, j) => directions(j));
  const x = new Array<number>(d).fill(0);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(x.map((value) => value / 2 ** BITS));
    let c = 0;
    while ((i >> c) & 1) c++;
    for (let j = 0; j < d; j++) x[j] ^= v[j][c];
  }
  return out;
}
