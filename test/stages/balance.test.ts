import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancedOrder, planBalance } from '../../stages/train/balance.js';
import { rng } from '../../stages/runtime/rng.js';
import type { Sample } from '../../stages/runtime/manifest.js';
import { cli, makeProject, read, writeFiles } from '../helpers.js';
import { TRAIN_STUDY_PIPELINE } from '../support/train-study.js';

const sample = (i: number, source: string, label: number): Sample => ({ path: `img${i}.png`, label, source, group: `g${i}` }) as Sample;

describe('train.balance: rebalancing the training images by group', () => {
  it('oversample fills each group up to the largest from the run\'s stream; weights are N / (groups x n_group)', () => {
    const set = [...Array.from({ length: 6 }, (_, i) => sample(i, 'wiki', 0)), sample(6, 'insight', 1), sample(7, 'insight', 1), sample(8, 'text2img', 1)];
    const over = planBalance({ by: 'source', method: 'oversample' }, set, '/nonexistent');
    assert.deepEqual(over.groups.map((g) => [g.group, g.n, g.per_epoch]), [['insight', 2, 6], ['text2img', 1, 6], ['wiki', 6, 6]]);
    const order = balancedOrder(over, set.length, rng(3));
    assert.equal(order.length, 18);
    const count = (source: string) => order.filter((i) => set[i].source === source).length;
    assert.deepEqual([count('wiki'), count('insight'), count('text2img')], [6, 6, 6]);
    assert.deepEqual(balancedOrder(over, set.length, rng(3)), order, 'the same stream, the same draws');
    const weights = planBalance({ by: 'label', method: 'weights' }, set, '/nonexistent');
    assert.deepEqual(weights.groups.map((g) => [g.group, g.weight]), [['0', 9 / (2 * 6)], ['1', 9 / (2 * 3)]], "scikit-learn's class_weight='balanced'");
    assert.equal(balancedOrder(weights, set.length, rng(3)).length, 9, 'weights leave the order alone');
  });

  it('trains with either method; metrics.json records the groups before and after; reruns are byte-identical', () => {
    const files = (balance: string) => ({
      'configs/dataset.yaml': 'seed: 5\ndata: { identities: 8, real_per_identity: 2, fake_per_identity: 2, size: 16 }\ncv: { folds: 2, stratify: label }\n',
      'configs/shared.yaml': 'seed: 5\nmodel: { arch: simple_cnn, width: 4, depth: 1 }\ndata: { size: 16 }\ntrain: { epochs: 2, batch_size: 4, lr: 0.01, patience: 3 }\n',
      'configs/exp/plain.yaml': 'extends: ../shared.yaml\n',
      'configs/exp/balanced.yaml': `extends: ../shared.yaml\ntrain: { balance: ${balance} }\n`,
      'pipeline.yaml': TRAIN_STUDY_PIPELINE,
    });
    const dir = makeProject(files('{ by: source, method: oversample }'));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(read(dir, 'outputs/runs/balanced/fold0/metrics.json')) as { images_seen: number; n_train: number; balance: { groups: { group: string; n: number; per_epoch: number }[] } };
    const groups = m.balance.groups;
    assert.equal(groups.reduce((a, g) => a + g.n, 0), m.n_train);
    assert.ok(groups.every((g) => g.per_epoch === Math.max(...groups.map((x) => x.n))));
    assert.equal(m.images_seen, 2 * groups.length * groups[0].per_epoch, 'two epochs of the rebalanced order');
    const again = makeProject(files('{ by: source, method: oversample }'));
    assert.equal(cli(again, ['run']).code, 0);
    assert.equal(read(again, 'outputs/runs/balanced/fold0/oof.csv'), read(dir, 'outputs/runs/balanced/fold0/oof.csv'));

    writeFiles(dir, files('{ by: source, method: weights }'));
    assert.equal(cli(dir, ['run']).code, 0);
    const w = JSON.parse(read(dir, 'outputs/runs/balanced/fold0/metrics.json')) as { n_train: number; balance: { method: string; groups: { n: number; weight: number }[] } };
    assert.equal(w.balance.method, 'weights');
    for (const g of w.balance.groups) assert.ok(Math.abs(g.weight - w.n_train / (w.balance.groups.length * g.n)) < 1e-12);
    assert.ok(w.balance.groups.some((g) => g.weight !== 1), 'the sources are not balanced in this data');
    // Equal weights train exactly as without them (the weighted step is the same AdamW step); unequal ones do not.
    assert.notEqual(read(dir, 'outputs/runs/balanced/fold0/oof.csv'), read(dir, 'outputs/runs/plain/fold0/oof.csv'));

    writeFiles(dir, files('{ by: age, method: weights }'));
    const bad = cli(dir, ['run']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /train\.balance\.by: age is not label, source or a column of .*manifest\.csv \(it has: path, label, source, group/);
  });
});
