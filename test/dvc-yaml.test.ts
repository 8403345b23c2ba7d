import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, executions, makeProject, read, writeFiles } from './helpers.js';

/**
 * dvc.yaml as DVC documents it (dvc.org's dvc.yaml reference): stage params read from
 * params.yaml by default, `- params.yaml:` for a whole file, a top-level `params:` that lists
 * files stages write, `desc`/`meta`, `always_changed`, `frozen`. Templating is in
 * dvc-templating.test.ts, outputs and layout in dvc-outputs.test.ts, a Python project end to end
 * in dvc-python.test.ts.
 */
function dvcProject(): string {
  return makeProject({
    'params.yaml': 'prepare:\n  split: 0.2\n  seed: 20170428\ntrain:\n  n_est: 50\n',
    'train.yaml': 'lr: 0.01\nepochs: 3\n',
    'data.txt': 'raw\n',
    'dvc.yaml': [
      'params:',
      '  - dvclive/params.yaml',
      'stages:',
      '  prepare:',
      '    desc: split the data',
      '    meta: { owner: lab }',
      '    cmd: echo prepare >> runs.log && echo ${prepare.split} > prepared.txt',
      '    deps: [data.txt]',
      '    params: [prepare.split, prepare.seed]',
      '    outs: [prepared.txt]',
      '  train:',
      '    cmd: echo train >> runs.log && cat prepared.txt train.yaml > model.txt',
      '    deps: [prepared.txt]',
      '    params:',
      '      - train.n_est',
      '      - train.yaml:',
      '    outs: [model.txt]',
    ].join('\n'),
  });
}

describe('dvc.yaml', () => {
  it('is the spec where there is no pipeline.yaml; params come from params.yaml by default; `- file:` is the whole file', () => {
    const dir = dvcProject();
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'prepared.txt'), '0.2\n');
    assert.deepEqual(executions(dir), ['prepare', 'train']);
    assert.match(read(dir, 'pipeline.lock'), /train\.yaml:epochs: 3/, 'every key of the whole-file params is in the key');
    writeFiles(dir, { 'train.yaml': 'lr: 0.01\nepochs: 4\n' });
    assert.match(cli(dir, ['status']).stdout, /^train: param train\.yaml:epochs 3 -> 4$/m);
    writeFiles(dir, { 'params.yaml': 'prepare:\n  split: 0.3\n  seed: 20170428\ntrain:\n  n_est: 50\n' });
    assert.match(cli(dir, ['status']).stdout, /^prepare: param prepare\.split 0\.2 -> 0\.3$/m);
    assert.equal(cli(dir, ['-f', 'dvc.yaml', 'validate']).code, 0);
  });

  it('always_changed runs every time, and early cutoff spares its dependents when its outs come out identical', () => {
    const dir = makeProject({
      'dvc.yaml': [
        'stages:',
        '  fetch:',
        '    cmd: echo fetch >> runs.log && echo same > fetched.txt',
        '    outs: [fetched.txt]',
        '    always_changed: true',
        '  use:',
        '    cmd: echo use >> runs.log && cat fetched.txt > used.txt',
        '    deps: [fetched.txt]',
        '    outs: [used.txt]',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(cli(dir, ['status']).stdout, /^fetch: always_changed: runs every time$/m);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['fetch', 'use', 'fetch'], 'fetch ran again, use did not (identical output)');
  });

  it('frozen never runs: a changed dep is not even checked; without a locked run it says so', () => {
    const dir = dvcProject();
    assert.equal(cli(dir, ['run']).code, 0);
    const spec = read(dir, 'dvc.yaml').replace('    desc: split the data', '    desc: split the data\n    frozen: true');
    writeFiles(dir, { 'dvc.yaml': spec, 'data.txt': 'new raw\n' });
    assert.match(cli(dir, ['status']).stdout, /^prepare: frozen: not checked, pipeline\.lock's run stands$/m, 'a frozen stage is never stale, and says so');
    const frozenRun = cli(dir, ['run']);
    assert.equal(frozenRun.code, 0);
    assert.match(frozenRun.stderr + frozenRun.stdout, /❄ prepare frozen: not checked/);
    assert.deepEqual(executions(dir), ['prepare', 'train'], 'nothing ran');
    const fresh = makeProject({ 'dvc.yaml': 'stages:\n  s:\n    cmd: echo hi > o\n    outs: [o]\n    frozen: true\n' });
    const r = cli(fresh, ['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dvc\.yaml:2:3: s is frozen but pipeline\.lock has no run of it; unfreeze it \(frozen: false\) to build it once/);
  });
});
