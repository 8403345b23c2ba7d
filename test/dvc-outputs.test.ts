import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { plotSpec } from '../src/plots/plot-page.js';
import { cli, executions, git, makeProject, read, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';

/** dvc.yaml's output options, top-level sections, wdir, subfolders and what we refuse, from dvc.org's dvc.yaml reference. */
describe('dvc.yaml outputs and layout', () => {
  it('cache: false is locked but not stored, so a deleted copy reruns; persist: true is left for the command to update', () => {
    const dir = makeProject({
      'params.yaml': 'round: 1\n',
      'dvc.yaml': [
        'stages:',
        '  grow:',
        '    cmd: >-',
        '      echo grow >> runs.log && echo ${round} >> history.txt && echo summary ${round} > summary.txt',
        '      && echo "{\\"round\\": ${round}}" > metrics.json',
        '    outs:',
        '      - history.txt:',
        '          persist: true',
        '      - summary.txt:',
        '          cache: false',
        '    metrics:',
        '      - metrics.json:',
        '          cache: false',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run']).code, 0);
    const lock = read(dir, 'pipeline.lock');
    const hashOf = (file: string) => new RegExp(`${file.replace('.', '\\.')}: ([0-9a-f]{64})`).exec(lock)?.[1];
    assert.ok(hashOf('summary.txt'), 'an uncached out is in the lock');
    const objects = readdirSync(path.join(dir, 'cache/objects'), { recursive: true }).map(String);
    assert.ok(!objects.some((o) => o.replace('/', '') === hashOf('summary.txt')), 'but not in the cache');
    assert.ok(!existsSync(path.join(dir, 'cache/runs')), 'and the run has no record to restore from');
    writeFiles(dir, { 'params.yaml': 'round: 2\n' });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'history.txt'), '1\n2\n', 'persist: the out was not deleted before the run');
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 2, 'up to date while its outs are there');
    assert.equal(cli(dir, ['exp', 'show', '--json']).code, 0);
    assert.match(cli(dir, ['exp', 'show', '--json']).stdout, /"round": 2/);
    rmSync(path.join(dir, 'summary.txt'));
    assert.match(cli(dir, ['status']).stdout, /^grow: out summary\.txt missing$/m);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 3, 'nothing to restore an uncached out from: the stage runs');
  });

  it('push: false keeps the stage off the remote; the rest is pushed', () => {
    const dir = makeProject({
      'dvc.yaml': [
        'stages:',
        '  big:',
        '    cmd: echo big > big.bin',
        '    outs:',
        '      - big.bin:',
        '          push: false',
        '  small:',
        '    cmd: cat big.bin > small.txt',
        '    deps: [big.bin]',
        '    outs: [small.txt]',
      ].join('\n'),
    });
    const remote = tempDir('pipeline-remote-');
    assert.equal(cli(dir, ['run']).code, 0);
    const r = cli(dir, ['cache', 'push'], { PIPELINE_REMOTE: remote });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /kept off the remote \(an out has push: false\): big/);
    const lock = read(dir, 'pipeline.lock');
    const keyOf = (stage: string) => new RegExp(`^  ${stage}:\\n    key: ([0-9a-f]{64})`, 'm').exec(lock)?.[1];
    assert.deepEqual(readdirSync(path.join(remote, 'runs')), [`${keyOf('small')}.json`]);
  });

  it('top-level metrics, plots and artifacts are accepted; a top-level metrics file a stage writes is shown by exp show', () => {
    const dir = makeProject({
      'dvc.yaml': [
        'metrics:',
        '  - eval/metrics.json',
        'plots:',
        '  - eval/roc.csv:',
        '      x: fpr',
        '      y: tpr',
        '      template: simple',
        '  - confusion:',
        '      template: confusion',
        '      x: actual',
        '      y:',
        '        eval/preds.csv: predicted',
        'artifacts:',
        '  text-classification:',
        '    path: model.txt',
        '    type: model',
        '    labels: [nlp]',
        'stages:',
        '  evaluate:',
        '    cmd: >-',
        '      mkdir -p eval && echo \'{"acc": 0.75}\' > eval/metrics.json && echo model > model.txt',
        '    outs: [eval, model.txt]',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run']).code, 0);
    const shown = JSON.parse(cli(dir, ['exp', 'show', '--json']).stdout) as { id: string; metrics: Record<string, number> }[];
    assert.deepEqual(shown.map((r) => [r.id, r.metrics.acc]), [['evaluate', 0.75]]);

    assert.match(cli(dir, ['plots', 'show']).stderr, /plot data eval\/roc\.csv does not exist yet: run the stage that writes it/);
    writeFiles(dir, { 'eval/roc.csv': 'fpr,tpr\n0,0\n0.5,0.8\n1,1\n', 'eval/preds.csv': 'actual,predicted\ncat,cat\ncat,dog\ndog,dog\n' });
    const r = cli(dir, ['plots', 'show', '-o', 'out']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^2 plots: out\/index\.html$/m);
    const page = read(dir, 'out/index.html');
    assert.equal(page.match(/<svg /g)?.length, 2);
    assert.match(page, /<section id="confusion">/);
    const roc = plotSpec({ id: 'eval/roc.csv', template: 'simple', x: 'fpr', y: { 'eval/roc.csv': ['tpr'] } }, dir) as unknown as { data: { values: unknown[] } };
    assert.deepEqual(roc.data.values, [0, 0.5, 1].map((x, i) => ({ x, y: [0, 0.8, 1][i], series: 'eval/roc.csv: tpr' })));
  });

  it('wdir: the command runs there and its paths are relative to it', () => {
    const dir = makeProject({
      'src/data.txt': 'raw\n',
      'dvc.yaml': 'stages:\n  prep:\n    wdir: src\n    cmd: tr a-z A-Z < data.txt > ../out/prepared.txt\n    deps: [data.txt]\n    outs: [../out/prepared.txt]\n',
    });
    writeFiles(dir, { 'out/.keep': '' });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'out/prepared.txt'), 'RAW\n');
    assert.match(read(dir, 'pipeline.lock'), /src\/data\.txt/);
  });

  it('a dvc.yaml in a subfolder: the repository root is the project root, ../ paths inside it work, the lock sits beside dvc.yaml, dvc.lock is left alone', () => {
    const dir = makeProject({
      'data/raw.txt': 'raw\n',
      'sub/params.yaml': 'n: 3\n',
      'sub/dvc.lock': 'schema: "2.0"\nstages: {}\n',
      'sub/dvc.yaml': 'stages:\n  train:\n    cmd: echo ${n} | cat - ../data/raw.txt > ../models/model.txt\n    deps: [../data/raw.txt]\n    outs: [../models/model.txt]\n',
    });
    writeFiles(dir, { 'models/.keep': '' });
    git(dir, 'init', '-q');
    const sub = path.join(dir, 'sub');
    const r = cli(sub, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'models/model.txt'), '3\nraw\n');
    assert.match(read(sub, 'pipeline.lock'), /models\/model\.txt: [0-9a-f]{64}/, 'paths in the lock are relative to the repository root');
    assert.equal(read(sub, 'dvc.lock'), 'schema: "2.0"\nstages: {}\n');
    assert.ok(existsSync(path.join(dir, 'cache/runs')), 'the cache is the repository’s');
    assert.match(cli(sub, ['run', '--json']).stdout, /"ran":0,"restored":0/);
    writeFiles(dir, { 'data/raw.txt': 'new\n' });
    assert.match(cli(sub, ['status']).stdout, /^train: dep data\/raw\.txt changed$/m);
  });

  it("refuses what it does not support with the DVC feature's name and what to do instead", () => {
    const cases: [string, RegExp][] = [
      ['stages:\n  put:\n    cmd: echo\n    outs:\n      - s3://bucket/model.pt\n', /dvc\.yaml:5:9: "s3:\/\/bucket\/model\.pt" is a URL: outs stay inside the project \(DVC 3 removed "external outputs" too\)\. Write the out under the project and upload it in a stage of its own/],
      ['stages:\n  get:\n    cmd: echo\n    deps:\n      - gs://bucket/data.csv\n', /dvc\.yaml:5:9: "gs:\/\/bucket\/data\.csv": gs:\/\/ deps are not supported \(http:\/\/, https:\/\/ and s3:\/\/ are, checked by ETag\)/],
      ['stages:\n  train:\n    cmd: python train.py\n    live:\n      dvclive:\n        summary: true\n', /dvc\.yaml:4:5: dvclive's `live:` section \(DVC 2\.x\) is not supported: write the metrics with dvclive as usual and list its files under metrics:/],
      ['stages:\n  train:\n    cmd: python train.py\n    outz: [m]\n', /dvc\.yaml:4:5: unknown key "outz" in stages\.train; did you mean "outs"\?/],
      ['datasets:\n  - name: d\nstages: {}\n', /dvc\.yaml:2:5: .*url/],
      ['datasets:\n  - { name: d, url: "s3://b/d", type: url }\nstages:\n  t:\n    cmd: echo\n    deps: ["ds://d"]\n', /dvc\.yaml:6:12: "ds:\/\/d": DVC's dataset deps \(ds:\/\/, resolved by `dvc ds`\) are not supported/],
    ];
    for (const [spec, expected] of cases) {
      const dir = makeProject({ 'dvc.yaml': spec });
      const r = cli(dir, ['validate']);
      assert.equal(r.code, 2, spec);
      assert.match(r.stderr, expected);
    }
  });
});

