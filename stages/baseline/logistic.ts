import { Cholesky } from './cholesky.js';
import { conjugateGradients } from './conjugate-gradients.js';
import { dot, margins, pack, subsampleGram, transposedProduct, weightedGram, weightedGramProduct, type Packed, type Rows } from './dense.js';
import { denseKernels } from './kernels.js';
import { lift, rowSpace, type RowSpace } from './row-space.js';

export type { Rows } from './dense.js';

export interface LogisticModel {
  coef: number[];
  intercept: number;
  /** Newton steps taken. */
  iterations: number;
  /** How many directions the samples span, when the fit went through that space (see `probeSpace`). */
  rank?: number;
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
/** log(1 + e^z) without overflow. */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

function linear(row: Float64Array, coef: ArrayLike<number>, intercept: number): number {
  let z = intercept;
  for (let j = 0; j < row.length; j++) z += row[j] * coef[j];
  return z;
}


/** Up to this many unknowns a Newton step forms and factorises the Hessian; beyond, conjugate gradients. */
const explicitHessian = 128;

/**
 * Newton's method on scikit-learn's objective, C * sum(log loss) + ||w||^2 / 2 with an
 * unpenalised intercept (w's last entry), from `start`, with a backtracking line search. A step
 * solves H s = g through the Cholesky factor of H = X~^T diag(C p (1 - p)) X~ + I when there are
 * few unknowns, else by conjugate gradients on Hessian-vector products (a few passes over the
 * samples instead of n d^2). It stops where the gradient, computed exactly, vanishes to 1e-12
 * of the loss's scale, so from any start it ends at the optimum sklearn's newton-cholesky reaches.
 */
function newton(X: Packed, y: readonly number[], C: number, start: Float64Array | undefined, maxIterations: number): { w: Float64Array; iterations: number } {
  const { n, d } = X;
  const D = d + 1;
  let w = start ? Float64Array.from(start) : new Float64Array(D);
  const margin = new Float64Array(n);
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
  const step = new Float64Array(D);
  const gram = D <= explicitHessian ? new Float64Array(D * D) : undefined;
  const addPenalty = (hessian: Float64Array) => {
    for (let a = 0; a < D; a++) hessian[a * D + a] += a === d ? 1e-12 : 1;
  };
  const solveExactly = (hessian: Float64Array) => {
    weightedGram(X, curvature, hessian);
    addPenalty(hessian);
    new Cholesky(hessian, D).solve(gradient, step);
  };
  // With many more samples than unknowns, conjugate gradients are preconditioned by the Hessian
  // estimated from 4 D samples drawn along the curvature (`subsampleGram`), factorised once and
  // again whenever a step needs many iterations: the features' correlations, which make the
  // plain iteration crawl, are what it captures.
  const subsample = n >= 16 * D ? Math.min(n, 4 * D) : 0;
  let preconditioner: Cholesky | undefined;
  let refresh = true;
  const precondition = () => {
    const hessian = subsampleGram(X, curvature, subsample);
    addPenalty(hessian);
    preconditioner = new Cholesky(hessian, D);
    refresh = false;
  };
  // Conjugate gradients on H step = gradient, to a relative residual that shrinks with the
  // gradient (Eisenstat and Walker's forcing term: quadratic convergence near the optimum).
  const solveByConjugateGradients = () => {
    if (subsample && refresh) precondition();
    const norm = Math.sqrt(dot(gradient, gradient));
    const k = conjugateGradients(hessianTimes, gradient, step, Math.min(0.1, norm) * norm, 2 * D, preconditioner && ((r, z) => preconditioner!.solve(r, z)));
    if (k > 20) refresh = true;
  };
  let current = objective(w);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    margin.set(scratch); // the objective was last evaluated at w (first, or the accepted step): its margins are w's
    for (let i = 0; i < n; i++) {
      const prob = sigmoid(margin[i]);
      residual[i] = C * (prob - y[i]);
      curvature[i] = C * prob * (1 - prob);
    }
    transposedProduct(X, residual, gradient);
    for (let j = 0; j < d; j++) gradient[j] += w[j];
    let largest = 0;
    for (const g of gradient) largest = Math.max(largest, Math.abs(g));
    if (largest < 1e-12 * Math.max(1, C * n)) break;
    if (gram) solveExactly(gram);
    else solveByConjugateGradients();
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
  return { w, iterations };
}

/** The samples' row space, when it has at most half as many directions as there are features. */
export function probeSpace(X: Packed): RowSpace | undefined {
  return rowSpace(X, Math.floor(X.d / 2));
}

/**
 * L2-penalised logistic regression with scikit-learn's objective, minimised exactly (see
 * `newton`). Where the samples span few directions (`probeSpace`), the model is fitted on their
 * coordinates in that space and lifted back, then Newton goes on from there on the samples
 * themselves: it stops at once when the lifted model's exact gradient already vanishes, and
 * finishes the job when the space dropped something that mattered.
 */
export function fitLogistic(x: Rows | Packed, y: readonly number[], C: number, space: RowSpace | 'find' | 'none' = 'find', maxIterations = 100): LogisticModel {
  const kernels = denseKernels();
  const top = kernels.top;
  const X = 'data' in x ? x : pack(x);
  try {
    const reduced = space === 'find' ? probeSpace(X) : space === 'none' ? undefined : space;
    let start: Float64Array | undefined;
    let iterations = 0;
    if (reduced) {
      const inSpace = newton(reduced.coordinates, y, C, undefined, maxIterations);
      start = new Float64Array(X.d + 1);
      start.set(lift(reduced, inSpace.w, X.d));
      start[X.d] = inSpace.w[reduced.rank];
      iterations = inSpace.iterations;
    }
    const { w, iterations: more } = newton(X, y, C, start, maxIterations);
    return { coef: Array.from(w.subarray(0, X.d)), intercept: w[X.d], iterations: iterations + more, ...(reduced && { rank: reduced.rank }) };
  } finally {
    kernels.release(top); // the copies made here: the samples' when packed here, the row space's when found here
  }
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
  const kernels = denseKernels();
  const top = kernels.top;
  try {
    const packed = pack(x);
    progress?.(0, classes);
    const space = probeSpace(packed) ?? 'none';
    return Array.from({ length: classes }, (_, k) => {
      const model = fitLogistic(packed, y.map((v) => (v === k ? 1 : 0)), C, space);
      progress?.(k + 1, classes);
      return model;
    });
  } finally {
    kernels.release(top);
  }
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
 * via centring), solved exactly: through the Cholesky factor of the centred Gram matrix, or, with
 * many more samples than features, by conjugate gradients preconditioned with a subsample's
 * Gram matrix, to a residual at rounding level (the centred products come from one pass over the
 * uncentred samples: X_c v = X v - mean . v).
 */
export function fitRidge(x: Rows, y: readonly number[], alpha: number): { coef: number[]; intercept: number } {
  const kernels = denseKernels();
  const top = kernels.top;
  try {
    const X = pack(x);
    const { n, d } = X;
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X.data[i * d + j] / n;
    const yMean = y.reduce((a, b) => a + b, 0) / n;
    const yCentred = Float64Array.from(y, (v) => v - yMean);
    // X_c^T y_c = X^T y_c - mean * sum(y_c), and sum(y_c) is 0.
    const full = new Float64Array(d + 1);
    transposedProduct(X, yCentred, full);
    const rhs = full.slice(0, d);
    const coef = new Float64Array(d);
    const regularised = (gram: Float64Array) => {
      const block = new Float64Array(d * d);
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) block[a * d + b] = gram[a * (d + 1) + b] + (a === b ? alpha : 0);
      return new Cholesky(block, d);
    };
    if (n < 16 * (d + 1)) {
      regularised(subsampleGram(X, undefined, n, mean)).solve(rhs, coef);
    } else {
      const ones = new Float64Array(n).fill(1);
      const v = new Float64Array(d + 1);
      const out = new Float64Array(d + 1);
      const times = (u: Float64Array, result: Float64Array) => {
        v.set(u);
        v[d] = -dot(mean, u);
        weightedGramProduct(X, ones, v, out);
        for (let j = 0; j < d; j++) result[j] = out[j] - mean[j] * out[d] + alpha * u[j];
      };
      const preconditioner = regularised(subsampleGram(X, undefined, 4 * (d + 1), mean));
      conjugateGradients(times, rhs, coef, 1e-13 * Math.sqrt(dot(rhs, rhs)), 10 * d, (r, z) => preconditioner.solve(r, z));
    }
    return { coef: Array.from(coef), intercept: yMean - dot(coef, mean) };
  } finally {
    kernels.release(top);
  }
}

export function predictLinear(model: { coef: readonly number[]; intercept: number }, x: Rows): number[] {
  return x.map((row) => row.reduce((a, v, j) => a + v * model.coef[j], model.intercept));
}
