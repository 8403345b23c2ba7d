import { packFlat, type Packed } from './dense.js';
import { denseKernels, even } from './kernels.js';

/**
 * An orthonormal basis B (rank x d) of the space the samples' rows span, and each sample's
 * coordinates in it (X B^T, n x rank). An L2-penalised linear model's optimal weights lie in
 * that space (the gradient's data term is X^T r), and ||B^T u|| = ||u||, so the model fitted on
 * the coordinates, lifted back, is the model fitted on the samples: thumbnails upsampled from
 * small scans, or grey images in three channels, have far fewer directions than pixels.
 */
export interface RowSpace {
  basis: Float64Array;
  rank: number;
  coordinates: Packed;
}

/** A residual this much smaller than its row is rounding, not a new direction. */
const inSpan = 1e-11;

/**
 * Gram-Schmidt over the rows, orthogonalised twice where the first pass cancels much (Daniel,
 * Gragg, Kaufman and Stewart's criterion), so the basis stays orthonormal to rounding.
 * Undefined once the rank passes `maxRank`: then the space saves too little to pay for itself.
 */
export function rowSpace({ data, n, d }: Packed, maxRank: number): RowSpace | undefined {
  const limit = Math.min(maxRank, d, n);
  const stride = even(d);
  const kernels = denseKernels();
  const [basis, residual, c] = kernels.scratch(limit * stride, stride, limit);
  const coordinates = new Float64Array(n * limit);
  let rank = 0;
  const project = () => kernels.exports.project(basis.byteOffset, rank, stride, residual.byteOffset, c.byteOffset);
  const norm = () => {
    let s = 0;
    for (let j = 0; j < d; j++) s += residual[j] * residual[j];
    return Math.sqrt(s);
  };
  for (let i = 0; i < n; i++) {
    residual.set(data.subarray(i * d, (i + 1) * d));
    const length = norm();
    const out = i * limit;
    if (length === 0) continue;
    project();
    for (let k = 0; k < rank; k++) coordinates[out + k] = c[k];
    let left = norm();
    if (left > inSpan * length && left < 0.7 * length) {
      project();
      for (let k = 0; k < rank; k++) coordinates[out + k] += c[k];
      left = norm();
    }
    if (left <= inSpan * length) continue;
    if (rank === limit) return undefined;
    for (let j = 0; j < d; j++) basis[rank * stride + j] = residual[j] / left;
    coordinates[out + rank] = left;
    rank++;
  }
  // Compact the coordinates to n x rank.
  const compact = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) compact.set(coordinates.subarray(i * limit, i * limit + rank), i * rank);
  const rows = new Float64Array(rank * d);
  for (let k = 0; k < rank; k++) rows.set(basis.subarray(k * stride, k * stride + d), k * d);
  return { basis: rows, rank, coordinates: packFlat(compact, n, rank) };
}

/** w = B^T u: coordinates back to the features. */
export function lift(space: RowSpace, u: ArrayLike<number>, d: number): Float64Array {
  const w = new Float64Array(d);
  for (let k = 0; k < space.rank; k++) {
    const uk = u[k];
    const o = k * d;
    for (let j = 0; j < d; j++) w[j] += uk * space.basis[o + j];
  }
  return w;
}
