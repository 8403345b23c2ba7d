/**
 * The Cholesky factor of a symmetric positive-definite D x D matrix given by its upper triangle
 * (row-major, flat), and solves with it: the probe's Newton steps, its preconditioner and ridge
 * all factor one such matrix and solve with it many times, so the factor is kept in a flat
 * array (ml-matrix's element accessors cost more than the arithmetic at these sizes).
 */
export class Cholesky {
  /** L, lower triangle, row-major: A = L L^T. */
  private readonly lower: Float64Array;
  /** L^T, row-major, so the back substitution reads rows too. */
  private readonly upper: Float64Array;

  constructor(upper: Float64Array, readonly size: number) {
    const D = size;
    const L = new Float64Array(D * D);
    for (let j = 0; j < D; j++) {
      const rj = j * D;
      let diagonal = upper[rj + j];
      for (let k = 0; k < j; k++) diagonal -= L[rj + k] * L[rj + k];
      if (!(diagonal > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${diagonal})`);
      const ljj = Math.sqrt(diagonal);
      L[rj + j] = ljj;
      for (let i = j + 1; i < D; i++) {
        const ri = i * D;
        let s = upper[rj + i];
        for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
        L[ri + j] = s / ljj;
      }
    }
    this.lower = L;
    this.upper = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let k = 0; k <= i; k++) this.upper[k * D + i] = L[i * D + k];
  }

  /** x = A^-1 b (x may be b). */
  solve(b: ArrayLike<number>, x: Float64Array = new Float64Array(this.size)): Float64Array {
    const D = this.size;
    const L = this.lower;
    for (let i = 0; i < D; i++) {
      const ri = i * D;
      let s = b[i];
      for (let k = 0; k < i; k++) s -= L[ri + k] * x[k];
      x[i] = s / L[ri + i];
    }
    const U = this.upper;
    for (let i = D - 1; i >= 0; i--) {
      const ri = i * D;
      let s = x[i];
      for (let k = i + 1; k < D; k++) s -= U[ri + k] * x[k];
      x[i] = s / U[ri + i];
    }
    return x;
  }
}
