import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metricChanges } from '../stages/metrics/compare.js';
import { cli, makeProject } from './helpers.js';

/** scipy's corrected resampled t-test cases (test/fixtures/metrics/make_fixtures.py). */
const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/fixtures/metrics/expected.json', import.meta.url)), 'utf8')) as { corrected: { a: number[]; b: number[]; ratio: number; t: number; p: number }[] };
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;

/** A fold's metrics.json as a trainer writes it (docs/formats.md), with an AUC and a log loss that differ by fold. */
const fold = (k: number, auc: number) => JSON.stringify({ fold: k, best_epoch: 1, val: { auc, log_loss: 1 - auc, n: 20 }, train: { auc: 1, n: 80 }, per_source_auc: {} });

describe('comparing two experiments metric by metric', () => {
  it("the change, the relative change and scipy's corrected t-test where the folds pair", () => {
    for (const c of fixtures.corrected) {
      const [change] = metricChanges({ test_train_ratio: c.ratio, metrics: { auc: { mean: mean(c.b), values: c.b } } }, { test_train_ratio: c.ratio, metrics: { auc: { mean: mean(c.a), values: c.a } } });
      assert.ok(Math.abs(change.test!.p - c.p) < 1e-9 && Math.abs(change.test!.t - c.t) < 1e-9, `${change.test!.p} vs ${c.p}`);
      assert.ok(Math.abs(change.change - (mean(c.a) - mean(c.b))) < 1e-12);
      assert.ok(Math.abs(change.relative! - (mean(c.a) - mean(c.b)) / Math.abs(mean(c.b))) < 1e-12);
    }
    const [unpaired] = metricChanges({ folds: [0, 1], metrics: { auc: { mean: 0.8, values: [0.8, 0.8] } } }, { folds: [0, 2], metrics: { auc: { mean: 0.9, values: [0.9, 0.9] } } });
    assert.equal(unpaired.test, undefined, 'other folds: no paired test');
  });

  it('`pipeline exp diff A B` reads two aggregates by experiment name', () => {
    const runs = (name: string, aucs: number[]) => Object.fromEntries(aucs.map((auc, k) => [`runs/${name}/fold${k}/metrics.json`, fold(k, auc)]));
    const dir = makeProject({
      ...runs('v1', [0.8, 0.82, 0.79]),
      ...runs('v2', [0.85, 0.86, 0.8]),
      'pipeline.yaml': ['stages:', '  aggregate:', '    matrix: { exp: [v1, v2] }', '    uses: aggregate', '    with: { experiment: "${exp}" }', '    deps: { runs: "runs/${exp}" }', '    outs: { results: "results/${exp}.json" }', ''].join('\n'),
    });
    const built = cli(dir, ['run']);
    assert.equal(built.code, 0, built.stderr);
    const r = cli(dir, ['exp', 'diff', 'v1', 'v2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const diff = JSON.parse(r.stdout) as { changes: { metric: string; a: number; b: number; change: number; test?: { folds: number } }[] };
    const auc = diff.changes.find((c) => c.metric === 'auc')!;
    assert.ok(Math.abs(auc.a - mean([0.8, 0.82, 0.79])) < 1e-12 && Math.abs(auc.b - mean([0.85, 0.86, 0.8])) < 1e-12);
    assert.equal(auc.test?.folds, 3);
    assert.match(cli(dir, ['exp', 'diff', 'v1', 'v2']).stdout, /log_loss .* -\d/);
    const bad = cli(dir, ['exp', 'diff', 'v1', 'v3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no experiment "v3" \(an aggregate's with\.experiment, e\.g\. v1, v2\)/);
  });
});
