import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** Rows of features, one Float64Array per sample. */
export type Rows = readonly Float64Array[];

export interface LogisticModel {
  coef: number[];
  intercept: number;
  /** Newton steps taken. */
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

/**
 * L2-penalised logistic regression with scikit-learn's objective, C * sum(log loss) + ||w||^2 / 2
 * with an unpenalised intercept, minimised by Newton's method with a backtracking line search: the
 * problem is strictly convex and small (pixels of a thumbnail), so the exact optimum is cheap
 * and every run finds the same one (sklearn's LogisticRegression equals it, test/stages/baseline).
 */
export function fitLogistic(x: Rows, y: readonly number[], C: number, maxIterations = 100): LogisticModel {
  const n = x.length;
  const d = n ? x[0].length : 0;
  let w = new Float64Array(d + 1); // the last entry is the intercept
  const objective = (v: Float64Array) => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const z = linear(x[i], v, v[d]);
      loss += y[i] === 1 ? softplus(-z) : softplus(z);
    }
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += v[j] * v[j];
    return C * loss + penalty / 2;
  };
  let current = objective(w);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(d + 1);
    const hessian = new Float64Array((d + 1) * (d + 1));
    const extended = new Float64Array(d + 1);
    extended[d] = 1;
    for (let i = 0; i < n; i++) {
      extended.set(x[i]);
      const p = sigmoid(linear(x[i], w, w[d]));
      const r = C * (p - y[i]);
      const h = C * p * (1 - p);
      for (let a = 0; a <= d; a++) {
        gradient[a] += r * extended[a];
        const ha = h * extended[a];
        if (ha === 0) continue;
        const rowOffset = a * (d + 1);
        for (let b = a; b <= d; b++) hessian[rowOffset + b] += ha * extended[b];
      }
    }
    for (let j = 0; j < d; j++) {
      gradient[j] += w[j];
      hessian[j * (d + 1) + j] += 1;
    }
    hessian[d * (d + 1) + d] += 1e-12; // keeps the intercept's pivot positive when every p is 0 or 1
    let largest = 0;
    for (const g of gradient) largest = Math.max(largest, Math.abs(g));
    if (largest < 1e-10 * Math.max(1, C * n)) break;
    const H = new Matrix(d + 1, d + 1);
    for (let a = 0; a <= d; a++) {
      for (let b = a; b <= d; b++) {
        H.set(a, b, hessian[a * (d + 1) + b]);
        H.set(b, a, hessian[a * (d + 1) + b]);
      }
    }
    const step = new CholeskyDecomposition(H).solve(Matrix.columnVector(Array.from(gradient))).to1DArray();
    let t = 1;
    let next = w;
    let value = current;
    for (let halvings = 0; halvings < 50; halvings++, t /= 2) {
      next = w.map((v, j) => v - t * step[j]);
      value = objective(next);
      if (value <= current) break;
    }
    const moved = Math.max(...step.map((s) => Math.abs(t * s)));
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
export function fitOneVsRest(x: Rows, y: readonly number[], classes: number, C: number): LogisticModel[] {
  return Array.from({ length: classes }, (_, k) => fitLogistic(x, y.map((v) => (v === k ? 1 : 0)), C));
}

export function predictOneVsRest(models: readonly LogisticModel[], x: Rows): number[][] {
  const per = models.map((m) => predictLogistic(m, x));
  return x.map((_, i) => {
    const row = per.map((p) => p[i]);
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? row.map(() => 1 / row.length) : row.map((v) => v / total);
  });
}

/** Ridge regression (scikit-learn's Ridge: ||y - Xw - b||² + alpha ||w||², intercept unpenalised via centring), solved exactly. */
export function fitRidge(x: Rows, y: readonly number[], alpha: number): { coef: number[]; intercept: number } {
  const n = x.length;
  const d = n ? x[0].length : 0;
  const xMean = new Array<number>(d).fill(0);
  for (const row of x) for (let j = 0; j < d; j++) xMean[j] += row[j] / n;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const gram = new Matrix(d, d);
  const rhs = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    const centred = x[i].map((v, j) => v - xMean[j]);
    for (let a = 0; a < d; a++) {
      rhs[a] += centred[a] * (y[i] - yMean);
      for (let b = a; b < d; b++) gram.set(a, b, gram.get(a, b) + centred[a] * centred[b]);
    }
  }
  for (let a = 0; a < d; a++) {
    gram.set(a, a, gram.get(a, a) + alpha);
    for (let b = a + 1; b < d; b++) gram.set(b, a, gram.get(a, b));
  }
  const coef = new CholeskyDecomposition(gram).solve(Matrix.columnVector(rhs)).to1DArray();
  return { coef, intercept: yMean - coef.reduce((a, c, j) => a + c * xMean[j], 0) };
}

export function predictLinear(model: { coef: readonly number[]; intercept: number }, x: Rows): number[] {
  return x.map((row) => row.reduce((a, v, j) => a + v * model.coef[j], model.intercept));
}
