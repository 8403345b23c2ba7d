import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, jsonEvents, makeProject } from './helpers.js';
import type { ResolvedStage } from '../src/ui/resolved-stage.js';

/** A dvc.yaml that leans on templating: vars, foreach over a params list, wdir, out options, metrics, frozen. */
const project = () =>
  makeProject({
    'params.yaml': 'models: [small, large]\nlr: 0.01\n',
    'src/prep.sh': 'echo prep\n',
    'data/raw.txt': 'raw\n',
    'dvc.yaml': [
      'stages:',
      '  prep:',
      '    wdir: src',
      '    cmd: sh prep.sh > ../data/clean.txt',
      '    deps: [prep.sh, ../data/raw.txt]',
      '    outs: [../data/clean.txt]',
      '  train:',
      '    foreach: ${models}',
      '    do:',
      '      cmd: echo ${item} ${lr} > out/${item}.txt && echo {} > out/${item}.json',
      '      deps: [data/clean.txt]',
      '      params: [lr]',
      '      outs:',
      '        - out/${item}.txt: { cache: false, persist: true }',
      '      metrics:',
      '        - out/${item}.json: { cache: false }',
      '  frozen_one:',
      '    cmd: echo hi > hi.txt',
      '    outs: [hi.txt]',
      '    frozen: true',
      '',
    ].join('\n'),
  });

describe('seeing what resolved', () => {
  it('dag --json prints each instance as it resolved: cmd, wdir, deps with their producers, outs with their options, params, frozen, upstream', () => {
    const dir = project();
    const r = cli(dir, ['dag', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const stages = JSON.parse(r.stdout) as ResolvedStage[];
    const byId = new Map(stages.map((s) => [s.id, s]));
    assert.deepEqual([...byId.keys()].sort(), ['frozen_one', 'prep', 'train@large', 'train@small']);
    const prep = byId.get('prep')!;
    assert.deepEqual([prep.wdir, prep.cmd], ['src', ['sh prep.sh > ../data/clean.txt']]);
    assert.deepEqual(prep.deps.map((d) => d.path), ['src/prep.sh', 'data/raw.txt'], 'paths relative to the project, wdir applied');
    const small = byId.get('train@small')!;
    assert.deepEqual(small.cmd, ['echo small 0.01 > out/small.txt && echo {} > out/small.json']);
    // The foreach item came from params.yaml's list: DVC tracks it as models.0.
    assert.deepEqual(small.params, { 'models.0': 'small', lr: 0.01 });
    assert.deepEqual(small.deps, [{ path: 'data/clean.txt', upstream: ['prep'] }]);
    assert.deepEqual(small.upstream, ['prep']);
    const out = small.outs.find((o) => o.path === 'out/small.txt')!;
    assert.deepEqual([out.cache, out.persist, out.metric], [false, true, false]);
    assert.deepEqual(small.outs.find((o) => o.path === 'out/small.json'), { path: 'out/small.json', cache: false, persist: false, push: true, metric: true, plot: false });
    assert.equal(byId.get('frozen_one')!.frozen, true);
  });

  it('run --dry-run prints the commands that would run (Snakemake\'s -n -p); --json adds each stage as it resolved', () => {
    const dir = project();
    const r = cli(dir, ['run', '--dry-run', 'train@small']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^run +prep .*\n    cd src && sh prep\.sh > \.\.\/data\/clean\.txt\n/m);
    assert.match(r.stdout, /^run +train@small .*\n    echo small 0\.01 > out\/small\.txt/m);
    const planned = cli(dir, ['run', '--dry-run', '--json', 'train@large']);
    assert.equal(planned.code, 0, planned.stderr + planned.stdout);
    const plan = jsonEvents(planned.stdout).find((e) => e.event === 'plan') as { stages: { stage: string; action: string; resolved: ResolvedStage }[] };
    const train = plan.stages.find((s) => s.stage === 'train@large')!;
    assert.equal(train.action, 'run');
    assert.deepEqual(train.resolved.cmd, ['echo large 0.01 > out/large.txt && echo {} > out/large.json']);
  });

  it('a built-in shows its name, with: and named ports', () => {
    const dir = makeProject({
      'configs/dataset.yaml': 'seed: 1\ncv: { folds: 2, stratify: label }\ndata: { identities: 4, real_per_identity: 1, fake_per_identity: 1, size: 16 }\n',
      'pipeline.yaml': 'params: [configs/dataset.yaml]\nstages:\n  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }\n  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }\n',
    });
    const split = (JSON.parse(cli(dir, ['dag', '--json', 'split']).stdout) as ResolvedStage[]).find((s) => s.id === 'split')!;
    assert.deepEqual([split.uses, split.cmd], ['split', undefined]);
    assert.deepEqual(split.deps, [{ path: 'data/raw', name: 'dataset', upstream: ['data'] }]);
    assert.deepEqual(split.outs.map((o) => [o.name, o.path]), [['splits', 'outputs/splits.json']]);
    assert.deepEqual(split.params, { seed: 1, cv: { folds: 2, stratify: 'label' } });
  });
});
