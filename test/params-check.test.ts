import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fingerprintOf, keyOf } from '../src/fingerprint.js';
import { loadProject } from '../src/spec/load.js';
import { cli, executions, linkNodeModules, makeProject } from './helpers.js';

/** A built-in's params are checked against its declared schema at load: a typo is a file:line:col error, not a different experiment. */
const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const project = (files: Record<string, string>) => {
  const dir = makeProject({ 'out/splits.json': '{}', 'data/raw/manifest.csv': 'path,label\n', ...files });
  made.push(dir);
  return dir;
};

const trainStage = (glob = 'configs/*.yaml', extra = '') =>
  [
    '  train:',
    `    matrix: { exp: "${glob}", fold: [0, 1] }`,
    '    uses: train',
    `    with: { fold: "\${fold}"${extra} }`,
    '    deps: { splits: out/splits.json, dataset: data/raw }',
    '    params: ${exp}',
    '    outs: { run: "out/${exp.name}/${fold}" }',
  ].join('\n');
const baselineStage = (glob: string) =>
  [
    '  baseline:',
    `    matrix: { exp: "${glob}", fold: [0] }`,
    '    uses: baseline',
    '    with: { fold: "${fold}" }',
    '    deps: { splits: out/splits.json, dataset: data/raw }',
    '    params: ${exp}',
    '    outs: { run: "probe/${exp.name}/${fold}" }',
  ].join('\n');
const base = 'seed: 1\nmodel: { arch: simple_cnn, width: 8 }\ndata: { size: 24 }\ntrain:\n  epochs: 2\n  lr: 0.003\n';

describe('the params of built-in stages', () => {
  it('a typo at each level of an extends chain is named in the file that set it, with the closest valid key', () => {
    for (const [file, line, col, typo, fix] of [
      ['configs/base.yaml', 7, 3, 'learnig_rate', 'train.lr'],
      ['configs/mid/mid.yaml', 2, 10, 'epoch', 'train.epochs'],
      ['configs/leaf.yaml', 2, 10, 'widht', 'model.width'],
    ] as const) {
      const files: Record<string, string> = {
        'pipeline.yaml': `stages:\n${trainStage('configs/leaf.yaml')}\n`,
        'configs/base.yaml': base,
        'configs/mid/mid.yaml': 'extends: ../base.yaml\ntrain: { batch_size: 4 }\n',
        'configs/leaf.yaml': 'extends: mid/mid.yaml\nmodel: { depth: 1 }\n',
      };
      if (typo === 'learnig_rate') files['configs/base.yaml'] += '  learnig_rate: 0.1\n';
      if (typo === 'epoch') files['configs/mid/mid.yaml'] = 'extends: ../base.yaml\ntrain: { epoch: 4 }\n';
      if (typo === 'widht') files['configs/leaf.yaml'] = 'extends: mid/mid.yaml\nmodel: { widht: 1 }\n';
      const r = cli(project(files), ['validate']);
      assert.equal(r.code, 2, r.stdout);
      const key = `${fix.split('.')[0]}.${typo}`;
      assert.match(r.stderr, new RegExp(`^error: ${file}:${line}:${col}: ${key.replace('.', '\\.')}: unknown key; did you mean ${fix.replace('.', '\\.')}\\? \\(train reads ${fix.split('.')[0]}\\.\\{[^}]*\\}\\); with: \\{ strict_params: false \\} makes this a warning$`, 'm'));
      assert.equal(r.stderr.match(/unknown key/g)?.length, 1, 'two folds of one config: one error');
    }
  });

  it('a misspelt section is named at its key, with what the built-in reads at the top', () => {
    const dir = project({ 'pipeline.yaml': `stages:\n${trainStage()}\n`, 'configs/a.yaml': base + 'trian: { lr: 1 }\n' });
    const r = cli(dir, ['validate']);
    assert.match(r.stderr, /configs\/a\.yaml:7:1: trian: unknown key; did you mean train\? \(train reads \{seed, task, model, data, train\}\)/);
  });

  it('a config shared by train and baseline may hold keys for either; a key neither reads is an error naming both', () => {
    const shared = base + 'probe: { pixels: 8, C: 2 }\n';
    const files = {
      'pipeline.yaml': `stages:\n${trainStage('configs/shared.yaml')}\n${baselineStage('configs/shared.yaml')}\n`,
      'configs/shared.yaml': shared,
    };
    const ok = cli(project(files), ['validate']);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = cli(project({ ...files, 'configs/shared.yaml': shared.replace('size: 24', 'size: 24, sise: 3') }), ['validate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /configs\/shared\.yaml:3:19: data\.sise: unknown key; did you mean data\.size\? \(train reads data\.\{input, fraction, holdout_source, eval_geometry, target, size, targets, monitor\}; baseline reads data\.\{input, fraction, holdout_source, eval_geometry, target\}\)/);
    // probe.* in a file only train reads is a typo too: only what a stage fed by the file reads counts.
    const onlyTrain = cli(project({ 'pipeline.yaml': `stages:\n${trainStage('configs/shared.yaml')}\n`, 'configs/shared.yaml': shared }), ['validate']);
    assert.match(onlyTrain.stderr, /configs\/shared\.yaml:7:1: probe: unknown key/);
  });

  it('a matrix over config globs: every bad file is reported at once, the good ones are not, and nothing runs', () => {
    const dir = project({
      'pipeline.yaml': `stages:\n  first:\n    cmd: echo first >> runs.log\n    outs: [x.txt]\n${trainStage()}\n`,
      'configs/good.yaml': base,
      'configs/typo.yaml': base + '  patiance: 2\n',
      'configs/range.yaml': base.replace('lr: 0.003', 'lr: -1'),
      'configs/enum.yaml': base.replace('arch: simple_cnn', 'arch: resnet19'),
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs\/typo\.yaml:7:3: train\.patiance: unknown key; did you mean train\.patience\?/);
    assert.match(r.stderr, /configs\/range\.yaml:6:7: train\.lr must be > 0 \(got -1; train reads it\)/);
    assert.match(r.stderr, /configs\/enum\.yaml:2:16: model\.arch must be one of: simple_cnn, resnet, mobilenet, simple_cnn_dense, resnet18, .* \(got "resnet19"\); did you mean resnet18\?/);
    assert.match(r.stderr, /3 problems in the params of built-in stages; nothing ran/);
    assert.doesNotMatch(r.stderr, /good\.yaml/);
    assert.deepEqual(executions(dir), [], 'not even the stage the configs do not feed ran');
  });

  it('types and -S overrides are checked as well, naming the -S', () => {
    const dir = project({ 'pipeline.yaml': `stages:\n${trainStage()}\n`, 'configs/a.yaml': base.replace('size: 24', 'size: big') });
    const r = cli(dir, ['validate']);
    assert.match(r.stderr, /configs\/a\.yaml:3:15: data\.size must be integer \(got "big"\)/);
    const fixed = project({ 'pipeline.yaml': `stages:\n${trainStage()}\n`, 'configs/a.yaml': base });
    const typo = cli(fixed, ['run', '-n', '-S', 'train.epoch=3']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /-S train\.epoch=3: train\.epoch: unknown key; did you mean train\.epochs\?/);
    assert.match(cli(fixed, ['run', '-n', '-S', 'train.epochs=0']).stderr, /-S train\.epochs=0: train\.epochs must be >= 1 \(got 0; train reads it\)/);
  });

  it('strict_params: false (top level or with:) turns unknown keys into warnings that still name each key, and is not part of the key', () => {
    const config = base + '  notes: tried 3e-3 first\n';
    const loose = project({ 'pipeline.yaml': `strict_params: false\nstages:\n${trainStage()}\n`, 'configs/a.yaml': config });
    const r = cli(loose, ['validate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: configs\/a\.yaml:7:3: train\.notes: unknown key \(train reads train\.\{[^}]*\}\); ignored \(strict_params: false\)/);
    const perStage = project({ 'pipeline.yaml': `stages:\n${trainStage('configs/*.yaml', ', strict_params: false')}\n`, 'configs/a.yaml': config });
    assert.equal(cli(perStage, ['validate']).code, 0);
    const plain = project({ 'pipeline.yaml': `stages:\n${trainStage()}\n`, 'configs/a.yaml': base });
    const keyIn = (dir: string) => keyOf(fingerprintOf(loadProject({ specFile: path.join(dir, 'pipeline.yaml') }).instances[0], {}));
    const withOption = project({ 'pipeline.yaml': `stages:\n${trainStage('configs/*.yaml', ', strict_params: false')}\n`, 'configs/a.yaml': base });
    assert.equal(keyIn(withOption), keyIn(plain));
    const wrong = cli(project({ 'pipeline.yaml': `stages:\n${trainStage('configs/*.yaml', ', strict_params: no')}\n`, 'configs/a.yaml': base }), ['validate']);
    assert.match(wrong.stderr, /pipeline\.yaml:5:\d+: with\.strict_params must be true or false \(got "no"\)/);
  });

  it('a built-in with no params where it needs them says which and how to name them', () => {
    const dir = project({
      'pipeline.yaml': 'stages:\n  train:\n    uses: train\n    with: { fold: 0 }\n    deps: { splits: s.json, dataset: data/raw }\n    outs: { run: out }\n',
    });
    assert.match(cli(dir, ['validate']).stderr, /pipeline\.yaml:3:5: train needs seed, model, data, train, and the stage names no params \(params: \$\{exp\}/);
  });

  it('cmd: stages are unaffected, except that a named param must exist', () => {
    const files = { 'params.yaml': 'train: { learnig_rate: 1 }\n', 'pipeline.yaml': 'params: [params.yaml]\nstages:\n  s:\n    cmd: echo ${train.learnig_rate}\n    params: [train.learnig_rate]\n' };
    assert.equal(cli(project(files), ['validate']).code, 0);
    const missing = cli(project({ ...files, 'pipeline.yaml': files['pipeline.yaml'].replace('params: [train.learnig_rate]', 'params: [train.lr]') }), ['validate']);
    assert.match(missing.stderr, /param "train\.lr" is not defined in the global params files/);
  });

  it('the bundled study and init\'s configs pass clean', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    assert.deepEqual(loadProject({ specFile: path.join(root, 'pipeline.yaml') }).warnings, []);
    const dir = project({});
    linkNodeModules(dir);
    assert.equal(cli(dir, ['init']).code, 0);
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});
