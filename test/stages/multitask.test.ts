import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { rocAuc } from '../../stages/metrics/metrics.js';
import { multiclassMetrics } from '../../stages/metrics/multiclass.js';
import { regressionMetrics } from '../../stages/metrics/regression.js';
import { binaryHead, multiclassHead, multiTaskHead, regressionHead } from '../../stages/train/heads.js';
import { splitCsv } from '../../stages/runtime/manifest.js';
import { cli, linkNodeModules, makeProject, read, writeFiles } from '../helpers.js';
import { TRAIN_STUDY_PIPELINE } from '../support/train-study.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('several targets from one network', () => {
  it("the head's loss is the weighted sum of each target's own loss on its slice of the outputs", () => {
    const train = { binary: [1, 0], classes: [2, 0], value: [3, -1] };
    const regression = regressionHead(train.value, 'mse');
    const head = multiTaskHead(
      [
        { name: 'label', head: binaryHead(), weight: 1, train: train.binary, val: [] },
        { name: 'source', head: multiclassHead(3), weight: 0.5, train: train.classes, val: [] },
        { name: 'age', head: regression, weight: 2, train: train.value, val: [] },
      ],
      'label',
    );
    assert.equal(head.units, 1 + 3 + 1);
    const logits = [
      [0.3, 0.1, -0.2, 0.5, 0.7],
      [-1.2, 0.4, 0.0, -0.3, -0.1],
    ];
    const loss = tf.tidy(() => (head.loss as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)(head.encode([0, 1]), tf.tensor2d(logits)).dataSync()[0]);
    // By hand: binary cross-entropy on sigmoid, categorical cross-entropy on softmax, MSE on the standardised target.
    const bce = train.binary.reduce((a, y, i) => a - (y * Math.log(sigmoid(logits[i][0])) + (1 - y) * Math.log(1 - sigmoid(logits[i][0]))), 0) / 2;
    const ce = train.classes.reduce((a, y, i) => {
      const z = logits[i].slice(1, 4);
      return a - (z[y] - Math.log(z.reduce((s, v) => s + Math.exp(v), 0)));
    }, 0) / 2;
    const [mean, sd] = [1, 2];
    const mse = train.value.reduce((a, y, i) => a + ((y - mean) / sd - logits[i][4]) ** 2, 0) / 2;
    assert.ok(Math.abs(loss - (bce + 0.5 * ce + 2 * mse)) < 1e-5, `${loss} vs ${bce + 0.5 * ce + 2 * mse}`);
    // Decoded: a probability, class probabilities summing to 1, the target on its own scale.
    const [row] = head.decode([logits[0]]);
    assert.ok(Math.abs(row[0] - sigmoid(0.3)) < 1e-12 && Math.abs(row[1] + row[2] + row[3] - 1) < 1e-12 && Math.abs(row[4] - (0.7 * sd + mean)) < 1e-12);
  });

  it('trains label, source and a numeric column in one network: each target scored as a run of it alone, oof.csv a column set each, aggregate per target', () => {
    const dir = makeProject({
      'configs/dataset.yaml': 'seed: 5\ndata: { identities: 8, real_per_identity: 2, fake_per_identity: 2, size: 16 }\ncv: { folds: 2, stratify: label }\n',
      'configs/shared.yaml': 'seed: 5\nmodel: { arch: simple_cnn, width: 4, depth: 1 }\ndata: { size: 16 }\ntrain: { epochs: 2, batch_size: 4, lr: 0.01, patience: 3 }\n',
      'configs/exp/multi.yaml': 'extends: ../shared.yaml\ndata:\n  targets:\n    label: { column: label }\n    source: { column: source }\n    light: { column: light, task: regression, loss: huber, weight: 0.5 }\n  monitor: light\n',
      'pipeline.yaml': TRAIN_STUDY_PIPELINE + ['  aggregate:', '    uses: aggregate', '    deps: { runs: outputs/runs/multi }', '    outs: { results: outputs/results/multi.json }', ''].join('\n'),
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const metrics = JSON.parse(read(dir, 'outputs/runs/multi/fold0/metrics.json')) as { monitor: string; targets: Record<string, { task: string; val: Record<string, number> }> };
    assert.equal(metrics.monitor, 'light');
    assert.deepEqual(Object.fromEntries(Object.entries(metrics.targets).map(([k, v]) => [k, v.task])), { label: 'binary', source: 'multiclass', light: 'regression' });
    const [head, ...lines] = read(dir, 'outputs/runs/multi/fold0/oof.csv').trim().split('\n');
    const cols = splitCsv(head);
    assert.deepEqual(cols.slice(0, 5), ['id', 'source', 'label_label', 'label_prob', 'label_pred']);
    const rows = lines.map((l) => splitCsv(l));
    const col = (name: string) => rows.map((c) => Number(c[cols.indexOf(name)]));
    // The metrics are those of the predictions written, target by target.
    assert.equal(metrics.targets.label.val.auc, rocAuc(col('label_label'), col('label_prob')));
    const classes = [0, 1, 2, 3].map((k) => col(`source_p_${k}`));
    assert.equal(metrics.targets.source.val.accuracy, multiclassMetrics(col('source_label'), rows.map((_, i) => classes.map((c) => c[i])), 4).accuracy);
    assert.ok(Math.abs(metrics.targets.light.val.mae - regressionMetrics(col('light_label'), col('light_pred')).mae) < 1e-6, 'the written predictions are rounded to 8 digits');
    const results = JSON.parse(read(dir, 'outputs/results/multi.json')) as { targets: Record<string, { metrics: Record<string, { values: number[] }> }> };
    assert.deepEqual(Object.keys(results.targets), ['label', 'source', 'light']);
    assert.equal(results.targets.label.metrics.auc.values[0], metrics.targets.label.val.auc);

    // A pretrained backbone (frozen features of the ImageNet MobileNetV2 nsfwjs ships) takes the same heads.
    writeFiles(dir, { 'configs/exp/multi.yaml': 'extends: ../shared.yaml\nmodel: { arch: mobilenet_v2, weights: "npm:nsfwjs/mobilenet_v2" }\ndata: { size: 96, targets: { label: { column: label }, source: { column: source, weight: 0.5 } } }\ntrain: { freeze: backbone, epochs: 2 }\n' });
    linkNodeModules(dir);
    const pretrained = cli(dir, ['run']);
    assert.equal(pretrained.code, 0, pretrained.stderr);
    const both = JSON.parse(read(dir, 'outputs/runs/multi/fold0/metrics.json')) as { targets: Record<string, { task: string }> };
    assert.deepEqual(Object.entries(both.targets).map(([k, v]) => [k, v.task]), [['label', 'binary'], ['source', 'multiclass']]);

    // Bad input, before anything trains: a column the manifest lacks; weights must be positive (at load, with file:line).
    writeFiles(dir, { 'configs/exp/multi.yaml': 'extends: ../shared.yaml\ndata:\n  targets:\n    age: { column: age }\n' });
    const missing = cli(dir, ['run']);
    assert.notEqual(missing.code, 0, 'a dataset a stage writes: the trainer refuses at its start');
    assert.match(missing.stderr, /data\.targets\.age\.column: age is not a column of .*manifest\.csv \(it has: path, label, source, group/);
    // The researcher's own dataset folder (no stage writes it): a config error at load, at the config's file:line.
    cpSync(path.join(dir, 'data/raw'), path.join(dir, 'data/mine'), { recursive: true });
    writeFiles(dir, { 'pipeline.yaml': TRAIN_STUDY_PIPELINE.replace('deps: { splits: outputs/splits.json, dataset: data/raw }', 'deps: { splits: outputs/splits.json, dataset: data/mine }') });
    const atLoad = cli(dir, ['status']);
    assert.equal(atLoad.code, 2, atLoad.stderr);
    assert.match(atLoad.stderr, /configs\/exp\/multi\.yaml:4:\d+: data\.targets\.age\.column: age is not a column of data\/mine\/manifest\.csv \(it has: path, label, source, group/);
    writeFiles(dir, { 'pipeline.yaml': TRAIN_STUDY_PIPELINE });
    writeFiles(dir, { 'configs/exp/multi.yaml': 'extends: ../shared.yaml\ndata:\n  targets:\n    where: { column: source, task: regression }\n' });
    assert.match(cli(dir, ['run']).stderr, /data\.targets\.where: .*regression target, but .* has "\w+", not a number/);
    writeFiles(dir, { 'configs/exp/multi.yaml': 'extends: ../shared.yaml\ndata:\n  targets:\n    label: { column: label, weight: 0 }\n' });
    const weight = cli(dir, ['status']);
    assert.equal(weight.code, 2);
    assert.match(weight.stderr, /configs\/exp\/multi\.yaml:4:\d+: .*weight must be > 0/);
  });
});
