import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { binaryMetrics, youdenThreshold } from '../../stages/metrics/metrics.js';
import { correctedPairedTTest, holm, logitMeanCi, meanCi, pairedTTest } from '../../stages/metrics/stats.js';

/** Generated once by test/fixtures/metrics/make_fixtures.py with scikit-learn and scipy. */
const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/metrics/expected.json', import.meta.url)), 'utf8')) as {
  cases: { name: string; labels: number[]; scores: number[]; youden: number; at_youden: Record<string, number>; expected: Record<string, number> }[];
  intervals: { values: number[]; mean: number; std: number; lo: number; hi: number }[];
  paired: { a: number[]; b: number[]; t: number; p: number }[];
  bounded: { values: number[]; lo: number; hi: number }[];
  corrected: { a: number[]; b: number[]; ratio: number; t: number; p: number }[];
  holm: { p: number[]; adjusted: number[] }[];
};

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-9, `${what}: ${actual} vs scikit-learn ${expected}`);

describe('metrics equal scikit-learn to 1e-9', () => {
  for (const c of fixtures.cases) {
    it(c.name, () => {
      const m = binaryMetrics(c.labels, c.scores) as unknown as Record<string, number>;
      for (const [key, expected] of Object.entries(c.expected)) close(m[key], expected, `${c.name}.${key}`);
    });
    it(`${c.name}: Youden's threshold equals the argmax of tpr - fpr over roc_curve, and the metrics at it`, () => {
      const threshold = youdenThreshold(c.labels, c.scores);
      assert.equal(threshold, c.youden);
      const m = binaryMetrics(c.labels, c.scores, threshold) as unknown as Record<string, number>;
      for (const [key, expected] of Object.entries(c.at_youden)) close(m[key], expected, `${c.name}.${key} at ${threshold}`);
    });
  }
  it('t confidence intervals equal scipy.stats.t.interval', () => {
    for (const f of fixtures.intervals) {
      const ci = meanCi(f.values);
      close(ci.mean, f.mean, 'mean');
      close(ci.std, f.std, 'std');
      close(ci.lo, f.lo, `lo (n=${f.values.length})`);
      close(ci.hi, f.hi, `hi (n=${f.values.length})`);
    }
  });
  it('paired t-tests equal scipy.stats.ttest_rel', () => {
    for (const f of fixtures.paired) {
      const r = pairedTTest(f.a, f.b);
      close(r.t, f.t, 't');
      close(r.p, f.p, `p (n=${f.a.length})`);
    }
  });
  it('intervals of bounded metrics (logit t) equal scipy.stats.t.interval on the logit scale, and stay inside [0, 1]', () => {
    for (const f of fixtures.bounded) {
      const ci = logitMeanCi(f.values);
      close(ci.lo, f.lo, `lo (n=${f.values.length})`);
      close(ci.hi, f.hi, `hi (n=${f.values.length})`);
      assert.ok(ci.lo >= 0 && ci.hi <= 1, `[${ci.lo}, ${ci.hi}]`);
      const plain = meanCi(f.values);
      if (plain.hi > 1) assert.ok(ci.hi < 1, 'where the plain interval leaves [0, 1], this one does not');
    }
  });
  it("Nadeau-Bengio's corrected resampled t-test equals the formula evaluated with scipy.stats.t", () => {
    for (const f of fixtures.corrected) {
      const r = correctedPairedTTest(f.a, f.b, f.ratio);
      close(r.t, f.t, 't');
      close(r.p, f.p, `p (k=${f.a.length}, ratio=${f.ratio})`);
      assert.ok(r.p >= pairedTTest(f.a, f.b).p, 'the correction only ever widens');
    }
  });
  it("Holm's adjustment equals statsmodels multipletests(method='holm')", () => {
    for (const f of fixtures.holm) holm(f.p).forEach((p, i) => close(p, f.adjusted[i], `adjusted p ${i} of ${f.p.length}`));
  });
});
