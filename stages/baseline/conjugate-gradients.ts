import { dot } from './dense.js';

/**
 * Preconditioned conjugate gradients for A x = b, A symmetric positive definite, given as
 * `times(v, out)`; `precondition(r, z)` applies M^-1 (absent: the identity). Stops when
 * ||r|| <= tolerance or after `maxIterations`; returns the iterations taken. x starts at 0.
 */
export function conjugateGradients(
  times: (v: Float64Array, out: Float64Array) => void,
  b: Float64Array,
  x: Float64Array,
  tolerance: number,
  maxIterations: number,
  precondition?: (r: Float64Array, z: Float64Array) => void,
): number {
  const D = b.length;
  const r = Float64Array.from(b);
  const z = new Float64Array(D);
  const p = new Float64Array(D);
  const ap = new Float64Array(D);
  const apply = (from: Float64Array, to: Float64Array) => (precondition ? precondition(from, to) : to.set(from));
  x.fill(0);
  apply(r, z);
  p.set(z);
  let rz = dot(r, z);
  let k = 0;
  for (; k < maxIterations && Math.sqrt(dot(r, r)) > tolerance; k++) {
    times(p, ap);
    const alpha = rz / dot(p, ap);
    for (let j = 0; j < D; j++) {
      x[j] += alpha * p[j];
      r[j] -= alpha * ap[j];
    }
    apply(r, z);
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let j = 0; j < D; j++) p[j] = z[j] + beta * p[j];
  }
  return k;
}
