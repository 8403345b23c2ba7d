import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, makeProject } from './helpers.js';

const base = (stages: string) => `version: 1\nparams: [params.yaml]\nstages:\n${stages}`;

describe('spec errors name file:line:col and what would be valid', () => {
  it('unknown key suggests the closest valid one', () => {
    const dir = makeProject({ 'params.yaml': 'a: 1\n', 'pipeline.yaml': base('  s:\n    cmd: echo hi\n    dep: [x]\n') });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:6:5: unknown key "dep" in stages\.s; did you mean "deps"\?/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  it('wrong type says what it got', () => {
    const dir = makeProject({ 'params.yaml': 'a: 1\n', 'pipeline.yaml': base('  s:\n    cmd: echo hi\n    outs: out.txt\n') });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:6:11: stages\.s\.outs must be array \(got string\)/);
  });

  it('bad YAML points at the line', () => {
    const dir = makeProject({ 'pipeline.yaml': 'version: 1\nstages:\n  s:\n    cmd: [echo\n' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:\d+:\d+: invalid YAML/);
  });

  it('a missing param names the valid keys', () => {
    const dir = makeProject({ 'params.yaml': 'train:\n  lr: 0.1\n  epochs: 3\n', 'pipeline.yaml': base('  s:\n    cmd: echo hi\n    params: [train.rl]\n') });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:6:14: param "train\.rl" is not defined .*valid keys here: train\.lr, train\.epochs/);
  });

  it('an unresolvable interpolation names the known names', () => {
    const dir = makeProject({ 'params.yaml': 'a: 1\n', 'pipeline.yaml': base('  s:\n    cmd: echo ${nope}\n') });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:5:10: cannot resolve \$\{nope\}.*known names: a/);
  });

  it('a stage with neither cmd nor uses', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    deps: [x]\n' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:2:3: stage "s" needs cmd: .* or uses:/);
  });

  it('extends cycles are reported with the chain', () => {
    const dir = makeProject({
      'configs/a.yaml': 'extends: b.yaml\nx: 1\n',
      'configs/b.yaml': 'extends: a.yaml\ny: 2\n',
      'pipeline.yaml': 'stages:\n  t:\n    matrix: { exp: configs/*.yaml }\n    cmd: echo ${exp.name}\n',
    });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /extends cycle: configs\/a\.yaml -> configs\/b\.yaml -> configs\/a\.yaml/);
  });
});

describe('matrix, foreach and interpolation', () => {
  it('expands a glob of configs with resolved extends chains, and quotes values in cmd', () => {
    const dir = makeProject({
      'configs/shared.yaml': 'train: { lr: 0.001, epochs: 2 }\nseed: 1\n',
      'configs/phase1/cnn.yaml': 'extends: ../shared.yaml\nmodel: simple cnn\n',
      'configs/phase1/resnet.yaml': 'extends: ../shared.yaml\nmodel: resnet\ntrain: { lr: 0.0003 }\n',
      'pipeline.yaml': [
        'stages:',
        '  train:',
        '    matrix:',
        '      exp: configs/phase*/*.yaml',
        '      fold: [0, 1]',
        '    cmd: echo ${model} ${train.lr} ${exp.path} ${fold} > out/${exp.name}-${fold}',
        '    params: ${exp}',
        '    outs:',
        '      - out/${exp.name}-${fold}',
        '  each:',
        '    foreach: [x, y]',
        '    do:',
        '      cmd: echo ${item} > out/each-${item}',
        '      outs:',
        '        - out/each-${item}',
      ].join('\n'),
    });
    const r = cli(dir, ['run', '-n', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { stages: { stage: string }[] };
    assert.deepEqual(plan.stages.map((s) => s.stage).sort(), [
      'each@x',
      'each@y',
      'train@exp=cnn,fold=0',
      'train@exp=cnn,fold=1',
      'train@exp=resnet,fold=0',
      'train@exp=resnet,fold=1',
    ]);
    const run = cli(dir, ['run']);
    assert.equal(run.code, 0, run.stderr);
    const status = cli(dir, ['status']);
    assert.match(status.stdout, /everything is up to date/);
    assert.equal(require_(dir, 'out/cnn-1'), 'simple cnn 0.001 configs/phase1/cnn.yaml 1\n');
    assert.equal(require_(dir, 'out/resnet-0'), 'resnet 0.0003 configs/phase1/resnet.yaml 0\n');
    const lockText = require_(dir, 'pipeline.lock');
    assert.match(lockText, /cmd: echo 'simple cnn' 0\.001 configs\/phase1\/cnn\.yaml 1 > out\/cnn-1/);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
function require_(dir: string, rel: string): string {
  return readFileSync(path.join(dir, rel), 'utf8');
}
