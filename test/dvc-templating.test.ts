import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, executions, makeProject, read, writeFiles } from './helpers.js';

/**
 * dvc.yaml templating as dvc.org documents it ("Templating", "vars", "Dictionary unpacking",
 * "foreach stages", "matrix stages"): values enter commands as written, params.yaml values a
 * stage reads become its params, vars merge without redefinition, instance ids are DVC's.
 */
function instanceIds(dir: string): string[] {
  const r = cli(dir, ['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { stage: string }[]).map((s) => s.stage).sort();
}

describe('dvc.yaml templating', () => {
  it('a vars file named again (params.yaml in vars, a file twice) loads once, as in DVC; its keys again are an error', () => {
    const dir = makeProject({
      'params.yaml': 'lr: 0.1\n',
      'more.yaml': 'a: 1\nb: 2\n',
      'dvc.yaml': 'vars:\n  - params.yaml\n  - more.yaml\n  - more.yaml\nstages:\n  s:\n    cmd: echo ${lr} ${a} > o.txt\n    outs: [o.txt]\n',
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'o.txt'), '0.1 1\n');
    writeFiles(dir, { 'dvc.yaml': read(dir, 'dvc.yaml').replace('  - more.yaml\n  - more.yaml\n', '  - more.yaml:a\n  - more.yaml:b\n  - more.yaml:a\n') });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:5:5: vars: cannot load 'more\.yaml' as some of its keys \(a\) are already loaded/);
    writeFiles(dir, { 'dvc.yaml': read(dir, 'dvc.yaml').replace('  - more.yaml:b\n  - more.yaml:a\n', '  - more.yaml\n') });
    assert.match(cli(dir, ['status']).stderr, /vars: cannot load 'more\.yaml' as it's partially loaded already/);
  });

  it('${...} inside matrix and foreach values reads the params; ${key} in a matrix is the entry\'s name', () => {
    const dir = makeProject({
      'params.yaml': 'base_lr: 0.5\n',
      'dvc.yaml': 'stages:\n  m:\n    matrix:\n      lr: ["${base_lr}", 0.1]\n      model: [cnn]\n    cmd: echo ${key} ${item.lr} > m-${key}.txt\n    outs: ["m-${key}.txt"]\n  f:\n    foreach: ["${base_lr}", 3]\n    do:\n      cmd: echo ${item} > f${item}.txt\n      outs: ["f${item}.txt"]\n',
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'm-0.5-cnn.txt'), '0.5-cnn 0.5\n');
    assert.equal(read(dir, 'f0.5.txt'), '0.5\n');
  });

  it('wdir: model-${item} runs each instance in its own folder, its paths relative to it', () => {
    const dir = makeProject({
      'model-a/in.txt': 'A\n',
      'model-b/in.txt': 'B\n',
      'dvc.yaml': 'stages:\n  m:\n    foreach: [a, b]\n    do:\n      wdir: model-${item}\n      cmd: cat in.txt > out.txt\n      deps: [in.txt]\n      outs: [out.txt]\n',
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([read(dir, 'model-a/out.txt'), read(dir, 'model-b/out.txt')], ['A\n', 'B\n']);
    const stages = JSON.parse(cli(dir, ['dag', '--json']).stdout) as { id: string; wdir: string; deps: { path: string }[] }[];
    assert.deepEqual(stages.map((s) => [s.id, s.wdir, s.deps[0].path]), [['m@a', 'model-a', 'model-a/in.txt'], ['m@b', 'model-b', 'model-b/in.txt']]);
  });

  it("foreach over params: ${item.thresh} makes models.<entry>.thresh a param of that instance, as DVC tracks it (its tests/func/parsing)", () => {
    const dir = makeProject({
      'params.yaml': 'models:\n  model1: { thresh: 10 }\n  model2: { thresh: 15 }\nlst:\n  - { thresh: foo }\n  - { thresh: bar }\n',
      'dvc.yaml': 'stages:\n  build:\n    foreach: ${models}\n    do:\n      cmd: echo ${item.thresh} > ${key}.txt\n      outs: ["${key}.txt"]\n  l:\n    foreach: ${lst}\n    do:\n      cmd: echo ${item.thresh} > l${item.thresh}.txt\n      outs: ["l${item.thresh}.txt"]\n',
    });
    const params = Object.fromEntries((JSON.parse(cli(dir, ['dag', '--json']).stdout) as { id: string; params: object }[]).map((s) => [s.id, s.params]));
    assert.deepEqual(params, { 'build@model1': { 'models.model1.thresh': 10 }, 'build@model2': { 'models.model2.thresh': 15 }, 'l@0': { 'lst.0.thresh': 'foo' }, 'l@1': { 'lst.1.thresh': 'bar' } });
    assert.equal(cli(dir, ['run']).code, 0);
    writeFiles(dir, { 'params.yaml': read(dir, 'params.yaml').replace('thresh: 15', 'thresh: 16') });
    assert.match(cli(dir, ['status']).stdout, /^build@model2: .*param models\.model2\.thresh 15 -> 16\n1 stale, 3 up to date/m);
  });

  it('wdir: model-${item} with vars: [params.yaml] reads each instance\'s own params.yaml from its wdir and tracks it (DVC\'s test_foreach_with_interpolated_wdir_and_local_vars)', () => {
    const files: Record<string, string> = { 'params.yaml': 'models: { model1: { thresh: foo } }\n' };
    for (let i = 0; i < 3; i++) files[`model-${i}/params.yaml`] = `train: { epochs: ${1 + i} }\nprepare: { nums: ${10 * i} }\n`;
    files['dvc.yaml'] = 'stages:\n  build:\n    foreach: [0, 1, 2]\n    do:\n      wdir: model-${item}\n      vars: [params.yaml]\n      cmd: echo ${item} ${train.epochs} ${prepare.nums} > out.txt\n      outs: [out.txt]\n';
    const dir = makeProject(files);
    const stages = JSON.parse(cli(dir, ['dag', '--json']).stdout) as { id: string; cmd: string[]; params: object }[];
    assert.deepEqual(stages.map((s) => [s.id, s.cmd[0]]), [['build@0', 'echo 0 1 0 > out.txt'], ['build@1', 'echo 1 2 10 > out.txt'], ['build@2', 'echo 2 3 20 > out.txt']]);
    assert.deepEqual(stages[2].params, { 'model-2/params.yaml:train.epochs': 3, 'model-2/params.yaml:prepare.nums': 20 });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'model-1/out.txt'), '1 2 10\n');
  });

  it('frozen: ${freeze} takes the boolean it names; anything else is an error', () => {
    const dir = makeProject({
      'params.yaml': 'freeze: true\n',
      'dvc.yaml': 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n    frozen: ${freeze}\n',
    });
    assert.match(cli(dir, ['run']).stderr, /a is frozen but pipeline\.lock has no run of it/);
    writeFiles(dir, { 'params.yaml': 'freeze: false\n' });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'a.txt'), 'a\n');
    writeFiles(dir, { 'params.yaml': 'freeze: maybe\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:5:\d+: frozen: \$\{freeze\} is "maybe"; it must name true or false/);
  });

  it("${a[b]} reads a key and ${list.0} / ${list[0]} a list's item, as DVC resolves them", () => {
    const dir = makeProject({
      'params.yaml': 'models:\n  - { name: a, lr: 0.1 }\n  - { name: b, lr: 0.2 }\ncfg: { us: { t: 10 } }\nlayers: [4, 8]\n',
      'dvc.yaml': [
        'stages:',
        '  first:',
        "    cmd: echo ${models.0.name} ${layers[1]} ${cfg[us][t]} ${cfg['us'].t} > first.txt",
        '    outs: [first.txt]',
        '  per:',
        '    foreach: ${models}',
        '    do:',
        '      cmd: echo ${item[name]} ${item.lr} > ${item.name}.txt',
        '      outs: ["${item.name}.txt"]',
        '',
      ].join('\n'),
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'first.txt'), 'a 8 10 10\n');
    assert.equal(read(dir, 'b.txt'), 'b 0.2\n');
    assert.match(cli(dir, ['status']).stderr + cli(dir, ['dag', '--json']).stdout, /"echo a 0\.1 > a\.txt"/);
  });

  it('vars (inline, a file, file:keys, stage-level) resolve ${...}; params.yaml values a stage reads are its params, vars are not', () => {
    const dir = makeProject({
      'params.yaml': 'models:\n  us:\n    threshold: 10\n    filename: model-us.txt\n',
      'params.json': '{"clean": {"filename": "clean.txt"}, "feats": {"exec": "echo featurize"}, "unused": 1}\n',
      'config/build.yaml': 'build:\n  tag: v2\n',
      'clean.txt': 'c\n',
      'dvc.yaml': [
        'vars:',
        '  - params.json:clean,feats',
        '  - desc: Reusable description',
        '    prog: echo built',
        'stages:',
        '  build-us:',
        '    desc: ${desc}',
        '    vars:',
        '      - config/build.yaml',
        '    cmd: ${prog} ${models.us.threshold} ${build.tag} > ${models.us.filename}',
        '    deps:',
        '      - ${clean.filename}',
        '    outs:',
        '      - ${models.us.filename}',
        '  featurize:',
        '    cmd: ${feats.exec} > feats.txt',
        '    outs: [feats.txt]',
      ].join('\n'),
    });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'model-us.txt'), 'built 10 v2\n', 'vars values enter the command unquoted, as DVC writes them');
    assert.equal(read(dir, 'feats.txt'), 'featurize\n');
    const lock = read(dir, 'pipeline.lock');
    assert.match(lock, /models\.us\.threshold: 10/, 'a params.yaml value the stage reads is a param');
    assert.match(lock, /params\.json:feats\.exec: echo featurize/, 'a vars file value is a param of that file');
    assert.match(lock, /config\/build\.yaml:build\.tag: v2/);
    assert.doesNotMatch(lock, /\bprog\b|\bdesc:/, 'inline vars are not params (DVC: "values from vars are not tracked")');
    writeFiles(dir, { 'params.yaml': 'models:\n  us:\n    threshold: 11\n    filename: model-us.txt\n' });
    assert.match(cli(dir, ['status']).stdout, /^build-us: param models\.us\.threshold 10 -> 11$/m);
  });

  it('a value defined twice (params.yaml and vars) is an error naming both, as in DVC', () => {
    const dir = makeProject({
      'params.yaml': 'grp:\n  a: 1\n',
      'dvc.yaml': 'vars:\n  - grp:\n      b: 2\n  - grp:\n      a: 7\nstages:\n  s:\n    cmd: echo ${grp.a} ${grp.b} > o\n    outs: [o]\n',
    });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dvc\.yaml:4:5: vars: "grp\.a" is already defined by params\.yaml; DVC does not let vars redefine a value/);
    writeFiles(dir, { 'dvc.yaml': 'vars:\n  - grp:\n      b: 2\nstages:\n  s:\n    cmd: echo ${grp.a} ${grp.b} > o\n    outs: [o]\n' });
    assert.equal(cli(dir, ['run']).code, 0, 'mappings merge key by key');
    assert.equal(read(dir, 'o'), '1 2\n');
  });

  it('dictionary unpacking: ${dict} in cmd becomes --key value flags (bools store_true, lists nargs, nested keys dotted)', () => {
    const dir = makeProject({
      'params.yaml': "train:\n  epochs: 10\n  opt:\n    lr: 0.1\n  aug: true\n  dropout: false\n  layers: [2, 4]\n  name: my model\n",
      'dvc.yaml': 'stages:\n  train:\n    cmd: printf "%s\\n" ${train} > args.txt\n    outs: [args.txt]\n',
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'args.txt'), ['--epochs', '10', '--opt.lr', '0.1', '--aug', '--layers', '2', '4', '--name', 'my model', ''].join('\n'));
    assert.match(read(dir, 'pipeline.lock'), /train\.opt\.lr: 0\.1/, 'every leaf of an unpacked dict is a param');
  });

  it(".dvc/config's parsing.bool: boolean_optional and parsing.list: append; strings quoted as shlex.quote; a nested list is DVC's error", () => {
    const dir = makeProject({
      '.dvc/config': "[core]\n    remote = storage\n['remote \"storage\"']\n    url = /tmp/x\n[parsing]\n    bool = boolean_optional\n    list = append\n",
      'params.yaml': "train:\n  aug: true\n  dropout: false\n  layers: [2, 4]\n  name: it's\n",
      'dvc.yaml': 'stages:\n  train:\n    cmd: printf "%s\\n" ${train} > args.txt\n    outs: [args.txt]\n',
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'args.txt'), ['--aug', '--no-dropout', '--layers', '2', '--layers', '4', '--name', "it's", ''].join('\n'));
    assert.match(JSON.stringify(JSON.parse(cli(dir, ['dag', '--json']).stdout)), /--name 'it'\\"'\\"'s'/, "shlex.quote's form, as DVC writes it");
    writeFiles(dir, { 'params.yaml': 'train:\n  k: [[1, 2]]\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:3:\d+: Cannot interpolate nested iterable in 'k'/);
  });

  it("vars: DVC's errors for interpolation inside vars and for a foreach stage's reserved item/key", () => {
    const dir = makeProject({ 'params.yaml': 'a: 1\n', 'dvc.yaml': 'vars:\n  - x: "${a}"\nstages:\n  s:\n    cmd: echo ${x}\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:2:5: vars: interpolating is not allowed in vars \(x: \$\{a\}\)/);
    writeFiles(dir, { 'dvc.yaml': 'stages:\n  s:\n    foreach: [1, 2]\n    do:\n      vars:\n        - item: 3\n      cmd: echo ${item}\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:6:11: vars: attempted to modify reserved 'item'/);
  });

  it("DVC's tests/func/parsing/test_errors.py and test_resolver.py: a templated vars file name, a missing one, item/key shadowed by params", () => {
    const dir = makeProject({ 'dvc.yaml': 'vars:\n  - ${file}_params.yaml\nstages:\n  s:\n    cmd: echo hi\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:2:5: vars: interpolating is not allowed in vars \(\$\{file\}_params\.yaml\)/);
    writeFiles(dir, { 'dvc.yaml': 'stages:\n  build:\n    vars: [not_existing_params.yaml]\n    cmd: echo hi\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:3:12: vars: 'not_existing_params\.yaml' does not exist/);
    writeFiles(dir, { 'params.yaml': 'item: 10\nkey: 5\n', 'dvc.yaml': 'stages:\n  build:\n    foreach: {model1: 10, model2: 5}\n    do:\n      cmd: echo ${item}\n' });
    const r = cli(dir, ['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: item and key are already specified, will be overwritten for stages generated from 'build'/);
    writeFiles(dir, { 'params.yaml': 'foo: bar\n', 'dvc.yaml': 'stages:\n  build:\n    foreach: [{thresh: "10"}, {}]\n    do:\n      cmd: echo ${item.thresh}\n' });
    assert.match(cli(dir, ['status']).stderr, /dvc\.yaml:5:12: cannot resolve \$\{item\.thresh\}: no such param or matrix value \(known names: foo, item\)/);
  });

  it("matrix: ${item.<key>}, DVC's ids (train@cnn-f1, key<index> for composite values) as targets", () => {
    const dir = makeProject({
      'params.yaml': 'features: [f1, f2]\n',
      'dvc.yaml': [
        'stages:',
        '  train:',
        '    matrix:',
        '      model: [cnn, xgb]',
        '      feature: ${features}',
        '    cmd: echo train@${item.model}-${item.feature} >> runs.log && echo ${item.model} ${item.feature} > ${item.model}-${item.feature}.txt',
        '    outs:',
        '      - ${item.model}-${item.feature}.txt',
        '  tune:',
        '    matrix:',
        '      opts: [{lr: 1}, {lr: 2}]',
        '    cmd: echo ${item.opts.lr} > tune-${item.opts.lr}.txt',
        '    outs:',
        '      - tune-${item.opts.lr}.txt',
      ].join('\n'),
    });
    const ids = instanceIds(dir);
    assert.deepEqual(ids, ['train@cnn-f1', 'train@cnn-f2', 'train@xgb-f1', 'train@xgb-f2', 'tune@opts0', 'tune@opts1']);
    assert.equal(cli(dir, ['run', 'train@xgb-f2']).code, 0);
    assert.deepEqual(executions(dir), ['train@xgb-f2'], 'an instance id is a target');
    assert.equal(read(dir, 'xgb-f2.txt'), 'xgb f2\n');
    assert.equal(cli(dir, ['run', 'train']).code, 0, 'the stage name runs all its instances');
    assert.equal(executions(dir).length, 4);
  });

  it('foreach: a list of values names instances by value, a list of mappings by index, a mapping by key', () => {
    const dir = makeProject({
      'dvc.yaml': [
        'stages:',
        '  build:',
        '    foreach: [us, uk]',
        '    do:',
        '      cmd: echo ${item} > build-${item}.txt',
        '      outs:',
        '        - build-${item}.txt',
        '  fit:',
        '    foreach:',
        '      - {os: linux, n: 1}',
        '      - {os: mac, n: 2}',
        '    do:',
        '      cmd: echo ${item.os} > fit-${item.n}.txt',
        '      outs:',
        '        - fit-${item.n}.txt',
        '  process:',
        '    foreach:',
        '      dataset1: {thresh: 10}',
        '      dataset2: {thresh: 20}',
        '    do:',
        '      cmd: echo ${key} ${item.thresh} > ${key}.txt',
        '      outs:',
        '        - ${key}.txt',
      ].join('\n'),
    });
    const ids = instanceIds(dir);
    assert.deepEqual(ids, ['build@uk', 'build@us', 'fit@0', 'fit@1', 'process@dataset1', 'process@dataset2']);
    assert.equal(cli(dir, ['run', 'fit@1', 'process@dataset1']).code, 0);
    assert.equal(read(dir, 'fit-2.txt'), 'mac\n');
    assert.equal(read(dir, 'dataset1.txt'), 'dataset1 10\n');
  });
});
