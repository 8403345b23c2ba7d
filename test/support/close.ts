import assert from 'node:assert/strict';

/** Named arrays of values, as a kernel test compares them between backends. */
export type Grads = Record<string, Float32Array>;

/** Every array of `actual` within `tolerance` of `expected`'s, relative to the largest magnitude in it. */
export function assertClose(expected: Grads, actual: Grads, what: string, tolerance = 1e-4): void {
  for (const key of Object.keys(expected)) {
    const scale = Math.max(1e-6, ...Array.from(expected[key]!, Math.abs));
    const worst = Math.max(...Array.from(expected[key]!, (v, i) => Math.abs(v - actual[key]![i]!)));
    assert.equal(actual[key]!.length, expected[key]!.length, `${what} ${key}: length`);
    assert.ok(worst <= tolerance * scale, `${what} ${key}: max error ${worst} (scale ${scale})`);
  }
}
