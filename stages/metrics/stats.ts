/** Log-gamma (Lanczos), for the incomplete beta function below. */
function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const coef of c) ser += coef / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction for the regularized incomplete beta function (Numerical Recipes betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const maxIterations = 300;
  const eps = 1e-15;
  const fpmin = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < fpmin) d = fpmin;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < fpmin) d = fpmin;
    c = 1 + aa / c;
    if (Math.abs(c) < fpmin) c = fpmin;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < fpmin) d = fpmin;
    c = 1 + aa / c;
    if (Math.abs(c) < fpmin) c = fpmin;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Student's t CDF with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t quantile, by bisection on the CDF (accurate to ~1e-12). */
export function studentTQuantile(p: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (ddof = 1), as numpy's std(ddof=1). */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((acc, v) => acc + (v - m) ** 2, 0) / (values.length - 1));
}

/** Mean with a two-sided t confidence interval over folds (scipy.stats.t.interval on the SEM). */
export function meanCi(values: readonly number[], level = 0.95): { mean: number; std: number; lo: number; hi: number; n: number } {
  const m = mean(values);
  const s = std(values);
  const n = values.length;
  if (n < 2) return { mean: m, std: 0, lo: m, hi: m, n };
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * (s / Math.sqrt(n));
  return { mean: m, std: s, lo: m - half, hi: m + half, n };
}

/** Paired t-test across folds (scipy.stats.ttest_rel): statistic and two-sided p-value. */
export function pairedTTest(a: readonly number[], b: readonly number[]): { t: number; p: number; df: number } {
  const diffs = a.map((v, i) => v - b[i]);
  const n = diffs.length;
  const sd = std(diffs);
  if (sd === 0) return { t: mean(diffs) === 0 ? 0 : Infinity * Math.sign(mean(diffs)), p: mean(diffs) === 0 ? 1 : 0, df: n - 1 };
  const t = mean(diffs) / (sd / Math.sqrt(n));
  return { t, p: 2 * (1 - studentTCdf(Math.abs(t), n - 1)), df: n - 1 };
}

const logit = (p: number) => Math.log(p / (1 - p));
const expit = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Mean over folds with an interval that stays inside [0, 1], for bounded metrics (AUC, accuracy,
 * F1, ...): a t interval on the logit scale, mapped back. A plain t interval over 5 folds leaves
 * [0, 1] whenever folds disagree near a bound ([0.582, 1.080] for an AUC); the logit one is
 * asymmetric there instead, and equals the plain one in the middle of the range. Fold values of
 * exactly 0 or 1 are clipped to [eps, 1 - eps] first (eps = 1e-3), or the logit is infinite.
 */
export function logitMeanCi(values: readonly number[], level = 0.95, eps = 1e-3): { mean: number; std: number; lo: number; hi: number; n: number } {
  const plain = meanCi(values, level);
  if (values.length < 2) return plain;
  const scaled = meanCi(values.map((v) => logit(Math.min(1 - eps, Math.max(eps, v)))), level);
  return { ...plain, lo: expit(scaled.lo), hi: expit(scaled.hi) };
}

/**
 * Nadeau and Bengio's corrected resampled t-test (Machine Learning 52, 2003) for two models scored
 * on the same k folds: the folds' training sets overlap, so the plain paired t-test's variance
 * sigma^2 / k is too small; the corrected one is (1/k + n_test/n_train) sigma^2, with k - 1
 * degrees of freedom. Two-sided p.
 */
export function correctedPairedTTest(a: readonly number[], b: readonly number[], testTrainRatio: number): { t: number; p: number; df: number } {
  const diffs = a.map((v, i) => v - b[i]);
  const k = diffs.length;
  const m = mean(diffs);
  const variance = std(diffs) ** 2;
  if (variance === 0) return { t: m === 0 ? 0 : Infinity * Math.sign(m), p: m === 0 ? 1 : 0, df: k - 1 };
  const t = m / Math.sqrt((1 / k + testTrainRatio) * variance);
  return { t, p: 2 * (1 - studentTCdf(Math.abs(t), k - 1)), df: k - 1 };
}

/** Holm's step-down adjustment of p-values for m comparisons (statsmodels multipletests, method='holm'), in the input order. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, index], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}
