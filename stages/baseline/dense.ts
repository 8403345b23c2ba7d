import { halves, HalvedProducts } from './halved-products.js';
import { denseKernels, even, RowProduct, rowProduct } from './kernels.js';

/**
 * Samples as one row-major float64 matrix and the products the probe's solvers stream over it.
 * Every product treats the matrix as X~ = [X, 1]: a vector of length d + 1 whose last entry is the
 * intercept's.
 */
export interface Packed {
  data: Float64Array;
  n: number;
  d: number;
  /** Byte offset of the kernels' copy of `data` (rows padded to an even length); freed by the kernels' `release`. */
  held: number;
  /** For a large matrix instead: its rows in two halves, one on another core. */
  halves?: HalvedProducts;
}

/** Rows of features, one Float64Array per sample. */
export type Rows = readonly Float64Array[];

export function packFlat(data: Float64Array, n: number, d: number): Packed {
  if (halves(n, d)) return { data, n, d, held: -1, halves: new HalvedProducts(data, n, d) };
  return { data, n, d, held: denseKernels().hold(data, n, d) };
}

export function pack(x: Rows): Packed {
  const n = x.length;
  const d = n ? x[0].length : 0;
  const data = new Float64Array(n * d);
  x.forEach((row, i) => data.set(row, i * d));
  return packFlat(data, n, d);
}

/** v (d + 1 entries, the intercept last) as the kernels read it: padded to even(d), then the intercept. */
function kernelVector(v: Float64Array, d: number): Float64Array {
  const target = new Float64Array(even(d) + 1);
  target.set(v.subarray(0, d));
  target[even(d)] = v[d];
  return target;
}

/** A product of X~ (halved or held in one piece). */
function product({ n, d, held, halves }: Packed, kind: RowProduct, vector: Float64Array | undefined, weights: Float64Array | undefined): Float64Array {
  return halves ? halves.product(kind, vector, weights) : rowProduct(kind, held, n, even(d), vector, weights);
}

/** A kernel result of stride + 1 entries as d + 1 (the padding dropped, the intercept's entry last). */
function unpadded(result: Float64Array, d: number, out: Float64Array): void {
  out.set(result.subarray(0, d));
  out[d] = result[even(d)];
}

/** out[i] = x_i . v[0..d) + v[d]. */
export function margins(X: Packed, v: Float64Array, out: Float64Array): void {
  out.set(product(X, RowProduct.Margins, kernelVector(v, X.d), undefined));
}

/** out = X~^T a. */
export function transposedProduct(X: Packed, a: Float64Array, out: Float64Array): void {
  unpadded(product(X, RowProduct.Transposed, undefined, a), X.d, out);
}

/**
 * out = X~^T diag(c) X~ v in one pass over the samples: each row is read once and is still in
 * cache for its second use, which halves the memory traffic of a Hessian-vector product.
 */
export function weightedGramProduct(X: Packed, c: Float64Array, v: Float64Array, out: Float64Array): void {
  unpadded(product(X, RowProduct.WeightedGramProduct, kernelVector(v, X.d), c), X.d, out);
}

/**
 * The upper triangle of X~^T diag(c) X~, (d + 1) x (d + 1) row-major. Worth it over
 * Hessian-vector products only while d is small. Formed from the columns (a transposed copy) in the SIMD kernel,
 * every entry a dot product over the samples.
 */
export function weightedGram({ data, n: samples, d }: Pick<Packed, 'data' | 'n' | 'd'>, c: Float64Array, out: Float64Array): void {
  const D = d + 1;
  // Rows whose curvature is negligible beside the largest (confident calls near a separable
  // optimum) change a Newton direction by rounding only; the gradient, never approximated, is
  // what fixes the optimum, so they are left out.
  let largest = 0;
  for (let i = 0; i < samples; i++) largest = Math.max(largest, c[i]);
  const rows: number[] = [];
  for (let i = 0; i < samples; i++) if (c[i] > 1e-6 * largest) rows.push(i);
  const n = even(rows.length);
  const kernels = denseKernels();
  const [columns, weights, weighted, result] = kernels.scratch(D * n, n, n, D * D);
  for (let t = 0; t < rows.length; t++) {
    const o = rows[t] * d;
    for (let j = 0; j < d; j++) columns[j * n + t] = data[o + j];
    columns[d * n + t] = 1;
    weights[t] = c[rows[t]];
  }
  kernels.exports.weighted_gram(columns.byteOffset, weights.byteOffset, n, D, weighted.byteOffset, result.byteOffset);
  out.set(result);
}

export const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
};

/**
 * An estimate of X~^T diag(c) X~ (upper triangle) from m samples, for a fraction of its cost:
 * the solvers factorise it as a preconditioner. The samples are drawn systematically along the
 * cumulative weight (sample k where it passes (k + 1/2) / m of the total), each weighing
 * total / m: rows with much curvature are drawn more, rows with none never, so the estimate
 * stays good when a logistic fit's curvature concentrates near its boundary. Deterministic.
 * Each drawn sample is taken less `centre` when given.
 */
export function subsampleGram(X: Pick<Packed, 'data' | 'n' | 'd'>, c: Float64Array | undefined, m: number, centre?: Float64Array): Float64Array {
  const { data, n, d } = X;
  const weight = (i: number) => (c ? c[i] : 1);
  let total = 0;
  for (let i = 0; i < n; i++) total += weight(i);
  const rows = new Float64Array(m * d);
  const weights = new Float64Array(m).fill(total / m);
  let i = 0;
  let passed = 0;
  for (let k = 0; k < m; k++) {
    const target = ((k + 0.5) / m) * total;
    while (i < n - 1 && passed + weight(i) < target) passed += weight(i++);
    const o = k * d;
    rows.set(data.subarray(i * d, (i + 1) * d), o);
    if (centre) for (let j = 0; j < d; j++) rows[o + j] -= centre[j];
  }
  const gram = new Float64Array((d + 1) * (d + 1));
  weightedGram({ data: rows, n: m, d }, weights, gram);
  return gram;
}
