import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** Rows of features, one Float64Array per sample. */
export type Rows = readonly Float64Array[];

export interface LogisticModel {
  coef: number[];
  intercept: number;
  /** Newton steps taken (each solved by conjugate gradients). */
  iterations: number;
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
/** log(1 + e^z) without overflow. */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

function linear(row: Float64Array, coef: ArrayLike<number>, intercept: number): number {
  let z = intercept;
  for (let j = 0; j < row.length; j++) z += row[j] * coef[j];
  return z;
}

/** Samples as one row-major matrix: the products below stream it row by row. */
interface Packed {
  data: Float64Array;
  n: number;
  d: number;
}

function pack(x: Rows): Packed {
  const n = x.length;
  const d = n ? x[0].length : 0;
  const data = new Float64Array(n * d);
  x.forEach((row, i) => data.set(row, i * d));
  return { data, n, d };
}

/** out[i] = x_i . v[0..d) + v[d] (the last entry is the intercept). */
function margins({ data, n, d }: Packed, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let z = v[d];
    const o = i * d;
    for (let j = 0; j < d; j++) z += data[o + j] * v[j];
    out[i] = z;
  }
}

/** out = X~^T a, X~ the samples with a column of ones (the intercept's). */
function transposedProduct({ data, n, d }: Packed, a: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    if (ai === 0) continue;
    const o = i * d;
    for (let j = 0; j < d; j++) out[j] += ai * data[o + j];
    out[d] += ai;
  }
}

/**
 * out = X~^T diag(c) X~ v in one pass over the samples: each row is read once and is still in
 * cache for its second use, which halves the memory traffic of a Hessian-vector product.
 */
function weightedGramProduct({ data, n, d }: Packed, c: Float64Array, v: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let z = v[d];
    for (let j = 0; j < d; j++) z += data[o + j] * v[j];
    const a = c[i] * z;
    if (a === 0) continue;
    for (let j = 0; j < d; j++) out[j] += a * data[o + j];
    out[d] += a;
  }
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
};

/**
 * L2-penalised logistic regression with scikit-learn's objective, C * sum(log loss) + ||w||^2 / 2
 * with an unpenalised intercept, minimised exactly: Newton steps (the problem is strictly convex)
 * with a backtracking line search, each step solved by conjugate gradients on Hessian-vector
 * products, X~^T diag(C p (1 - p)) X~ v + v, so an iteration costs a few passes over the
 * samples instead of forming the d x d Hessian (n d^2: minutes for a 10-class probe on 1.4k
 * images of 768 pixels). It stops where the gradient, computed exactly, vanishes to 1e-12 of the
 * loss's scale, so it reaches the optimum sklearn's newton-cholesky reaches (test/stages/baseline).
 */
export function fitLogistic(x: Rows | Packed, y: readonly number[], C: number, maxIterations = 100): LogisticModel {
  const X = 'data' in x ? x : pack(x);
  const { n, d } = X;
  const D = d + 1;
  let w = new Float64Array(D); // the last entry is the intercept
  const z = new Float64Array(n);
  const curvature = new Float64Array(n);
  const residual = new Float64Array(n);
  const gradient = new Float64Array(D);
  const scratch = new Float64Array(n);
  const objective = (v: Float64Array) => {
    margins(X, v, scratch);
    let loss = 0;
    for (let i = 0; i < n; i++) loss += y[i] === 1 ? softplus(-scratch[i]) : softplus(scratch[i]);
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += v[j] * v[j];
    return C * loss + penalty / 2;
  };
  const hessianTimes = (v: Float64Array, out: Float64Array) => {
    weightedGramProduct(X, curvature, v, out);
    for (let j = 0; j < d; j++) out[j] += v[j];
    out[d] += 1e-12 * v[d]; // keeps the intercept's curvature positive when every p is 0 or 1
  };
  let current = objective(w);
  let iterations = 0;
  const step = new Float64Array(D);
  const r = new Float64Array(D);
  const p = new Float64Array(D);
  const hp = new Float64Array(D);
  for (; iterations < maxIterations; iterations++) {
    margins(X, w, z);
    for (let i = 0; i < n; i++) {
      const prob = sigmoid(z[i]);
      residual[i] = C * (prob - y[i]);
      curvature[i] = C * prob * (1 - prob);
    }
    transposedProduct(X, residual, gradient);
    for (let j = 0; j < d; j++) gradient[j] += w[j];
    let largest = 0;
    for (const g of gradient) largest = Math.max(largest, Math.abs(g));
    if (largest < 1e-12 * Math.max(1, C * n)) break;
    // Conjugate gradients on H step = gradient, to a relative residual that shrinks with the
    // gradient (Eisenstat and Walker's forcing term: quadratic convergence near the optimum).
    step.fill(0);
    r.set(gradient);
    p.set(gradient);
    let rr = dot(r, r);
    const norm = Math.sqrt(rr);
    const tolerance = Math.min(0.5, norm) * norm;
    for (let k = 0; k < 2 * D && Math.sqrt(rr) > tolerance; k++) {
      hessianTimes(p, hp);
      const alpha = rr / dot(p, hp);
      for (let j = 0; j < D; j++) {
        step[j] += alpha * p[j];
        r[j] -= alpha * hp[j];
      }
      const next = dot(r, r);
      const beta = next / rr;
      rr = next;
      for (let j = 0; j < D; j++) p[j] = r[j] + beta * p[j];
    }
    let t = 1;
    let next = w;
    let value = current;
    // Near the optimum a step changes the objective by less than its rounding (n terms): accept that.
    const noise = n * 1e-15 * Math.max(1, Math.abs(current));
    for (let halvings = 0; halvings < 50; halvings++, t /= 2) {
      next = w.map((v, j) => v - t * step[j]);
      value = objective(next);
      if (value <= current + noise) break;
    }
    let moved = 0;
    for (let j = 0; j < D; j++) moved = Math.max(moved, Math.abs(t * step[j]));
    w = next;
    current = value;
    if (moved < 1e-14) break;
  }
  return { coef: Array.from(w.subarray(0, d)), intercept: w[d], iterations };
}

export function predictLogistic(model: Pick<LogisticModel, 'coef' | 'intercept'>, x: Rows): number[] {
  return x.map((row) => sigmoid(linear(row, model.coef, model.intercept)));
}

/** Per-feature mean and scale as scikit-learn's StandardScaler (population std; 1 where a feature is constant). */
export function standardScaler(x: Rows): { mean: number[]; scale: number[] } {
  const d = x.length ? x[0].length : 0;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (const row of x) for (let j = 0; j < d; j++) mean[j] += row[j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(1, x.length);
  for (const row of x) for (let j = 0; j < d; j++) sq[j] += (row[j] - mean[j]) ** 2;
  const scale = sq.map((s) => Math.sqrt(s / Math.max(1, x.length))).map((s) => (s === 0 ? 1 : s));
  return { mean, scale };
}

export function standardize(x: Rows, scaler: { mean: readonly number[]; scale: readonly number[] }): Float64Array[] {
  return x.map((row) => row.map((v, j) => (v - scaler.mean[j]) / scaler.scale[j]));
}

/**
 * One-vs-rest L2 logistic regression, as scikit-learn's OneVsRestClassifier(LogisticRegression)
 * fits it: one exact binary model per class; probabilities are the K sigmoids normalised to sum 1.
 */
export function fitOneVsRest(x: Rows, y: readonly number[], classes: number, C: number, progress?: (done: number, total: number) => void): LogisticModel[] {
  const packed = pack(x);
  progress?.(0, classes);
  return Array.from({ length: classes }, (_, k) => {
    const model = fitLogistic(packed, y.map((v) => (v === k ? 1 : 0)), C);
    progress?.(k + 1, classes);
    return model;
  });
}

export function predictOneVsRest(models: readonly LogisticModel[], x: Rows): number[][] {
  const per = models.map((m) => predictLogistic(m, x));
  return x.map((_, i) => {
    const row = per.map((p) => p[i]);
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? row.map(() => 1 / row.length) : row.map((v) => v / total);
  });
}

/**
 * Ridge regression (scikit-learn's Ridge: ||y - Xw - b||² + alpha ||w||², intercept unpenalised
 * via centring), solved exactly through the Cholesky factor of the centred Gram matrix, which is
 * accumulated row by row into the upper triangle of a flat d x d array (one rank-1 update per sample).
 */
export function fitRidge(x: Rows, y: readonly number[], alpha: number): { coef: number[]; intercept: number } {
  const n = x.length;
  const d = n ? x[0].length : 0;
  const xMean = new Float64Array(d);
  for (const row of x) for (let j = 0; j < d; j++) xMean[j] += row[j] / n;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const gram = new Float64Array(d * d);
  const rhs = new Array<number>(d).fill(0);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = x[i];
    for (let j = 0; j < d; j++) centred[j] = row[j] - xMean[j];
    const yc = y[i] - yMean;
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      rhs[a] += ca * yc;
      if (ca === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) gram[o + b] += ca * centred[b];
    }
  }
  const matrix = new Matrix(d, d);
  for (let a = 0; a < d; a++) {
    matrix.set(a, a, gram[a * d + a] + alpha);
    for (let b = a + 1; b < d; b++) {
      matrix.set(a, b, gram[a * d + b]);
      matrix.set(b, a, gram[a * d + b]);
    }
  }
  const coef = new CholeskyDecomposition(matrix).solve(Matrix.columnVector(rhs)).to1DArray();
  return { coef, intercept: yMean - coef.reduce((a, c, j) => a + c * xMean[j], 0) };
}

export function predictLinear(model: { coef: readonly number[]; intercept: number }, x: Rows): number[] {
  return x.map((row) => row.reduce((a, v, j) => a + v * model.coef[j], model.intercept));
}
