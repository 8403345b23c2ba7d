import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logitMeanCi, meanCi } from '../../stages/metrics/stats.js';
import { cli, makeProject, read } from '../helpers.js';

/** Five folds whose AUCs crowd the upper bound: where a plain t interval leaves [0, 1]. */
const aucs = [1.0, 0.98, 0.7, 0.99, 1.0];

function foldFile(fold: number, auc: number): string {
  const val = { auc, pr_auc: auc, accuracy: 0.9, f1: 0.9, precision: 0.9, recall: 0.9, log_loss: 0.3, n: 36 };
  return JSON.stringify({ fold, best_epoch: 1, val, train: { ...val, auc: 1, n: 120 }, per_source_auc: { a: auc }, backend: 'cpu' });
}

describe('aggregate', () => {
  it('intervals of bounded metrics are logit-t and stay in [0, 1]; it records n_test/n_train for the corrected test', () => {
    assert.ok(meanCi(aucs).hi > 1, 'the plain interval would leave [0, 1]');
    const files = Object.fromEntries(aucs.map((auc, fold) => [`runs/fold${fold}/metrics.json`, foldFile(fold, auc)]));
    const dir = makeProject({
      ...files,
      'pipeline.yaml': 'stages:\n  agg:\n    uses: aggregate\n    with: { experiment: e }\n    deps: { runs: runs }\n    outs: { results: results.json }\n',
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(read(dir, 'results.json')) as { metrics: Record<string, { lo: number; hi: number; mean: number }>; per_source_auc: Record<string, { lo: number; hi: number }>; test_train_ratio: number; intervals: string };
    const expected = logitMeanCi(aucs);
    assert.deepEqual([result.metrics.auc.lo, result.metrics.auc.hi], [expected.lo, expected.hi]);
    assert.ok(result.metrics.auc.hi <= 1 && result.per_source_auc.a.hi <= 1);
    assert.equal(result.metrics.log_loss.lo, meanCi(aucs.map(() => 0.3)).lo, 'log loss is not bounded by 1: a plain t interval');
    assert.equal(result.test_train_ratio, 36 / 120);
    assert.match(result.intervals, /logit scale for metrics in \[0, 1\]/);
  });
});
