/** error(n) = c * n^-m + c0: a learning curve's power law with an asymptote (the error no amount of data removes). */
export interface PowerLaw {
  c: number;
  m: number;
  c0: number;
}

export interface PowerLawFit extends PowerLaw {
  /** Sum of squared residuals on the error. */
  sse: number;
}

/** The largest exponent searched: n^-m for n >= 2 is below 1e-6 beyond it, a step, not a curve. */
export const MAX_EXPONENT = 20;

export const powerLaw = (p: PowerLaw, n: number) => p.c * n ** -p.m + p.c0;

/** For a fixed m the law is linear in (c, c0): least squares with 0 <= c0 <= 1, exactly. */
function bestForExponent(n: readonly number[], error: readonly number[], m: number): PowerLawFit {
  const u = n.map((v) => v ** -m);
  const k = n.length;
  const su = u.reduce((a, v) => a + v, 0);
  const se = error.reduce((a, v) => a + v, 0);
  const suu = u.reduce((a, v) => a + v * v, 0);
  const sue = u.reduce((a, v, i) => a + v * error[i], 0);
  const sse = (c: number, c0: number) => u.reduce((a, v, i) => a + (error[i] - c * v - c0) ** 2, 0);
  const det = k * suu - su * su;
  // u constant (m = 0, or every n equal): c and c0 are one parameter; put it in c0 where it fits.
  if (det <= 1e-12 * k * suu) {
    const c0 = Math.min(1, Math.max(0, se / k));
    const c = suu > 0 ? (sue - c0 * su) / suu : 0;
    return { c, m, c0, sse: sse(c, c0) };
  }
  const c = (k * sue - su * se) / det;
  const c0 = (suu * se - su * sue) / det;
  if (c0 >= 0 && c0 <= 1) return { c, m, c0, sse: sse(c, c0) };
  // Convex in (c, c0): the constrained optimum lies on the bound the free optimum violates.
  const onBound = c0 < 0 ? 0 : 1;
  const cAt = (sue - onBound * su) / suu;
  return { c: cAt, m, c0: onBound, sse: sse(cAt, onBound) };
}

/**
 * Least squares of error = c * n^-m + c0 with m >= 0 and 0 <= c0 <= 1. The fit is profiled:
 * for each m the best (c, c0) is exact (above), and m is found by a grid over [0, MAX_EXPONENT]
 * refined by golden-section search around every local minimum of the grid — the "several
 * starts" of a generic solver, without depending on where they start.
 */
export function fitPowerLaw(n: readonly number[], error: readonly number[]): PowerLawFit {
  if (n.length !== error.length || n.length < 3) throw new Error(`a power law needs at least 3 points (got ${n.length})`);
  const profile = (m: number) => bestForExponent(n, error, m);
  const steps = 4000;
  const grid = Array.from({ length: steps + 1 }, (_, i) => (MAX_EXPONENT * i) / steps);
  const values = grid.map((m) => profile(m).sse);
  let best = profile(0);
  for (let i = 0; i <= steps; i++) {
    const isMinimum = (i === 0 || values[i] <= values[i - 1]) && (i === steps || values[i] <= values[i + 1]);
    if (!isMinimum) continue;
    let lo = grid[Math.max(0, i - 1)];
    let hi = grid[Math.min(steps, i + 1)];
    const ratio = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 200 && hi - lo > 1e-13; it++) {
      const a = hi - ratio * (hi - lo);
      const b = lo + ratio * (hi - lo);
      if (profile(a).sse <= profile(b).sse) hi = b;
      else lo = a;
    }
    const candidate = profile((lo + hi) / 2);
    if (candidate.sse < best.sse) best = candidate;
    if (values[i] < best.sse) best = profile(grid[i]);
  }
  return best;
}

/** The n at which the law reaches `error` (rounded up); null when the asymptote c0 is at or above it, or the law never falls. */
export function inverse(p: PowerLaw, error: number): number | null {
  if (p.c <= 0 || p.m <= 0) return powerLaw(p, 1) <= error ? 1 : null; // flat or rising: met from the start, or never
  if (error <= p.c0) return null;
  return Math.max(1, Math.ceil((p.c / (error - p.c0)) ** (1 / p.m)));
}
