import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, git, makeProject, writeFiles } from './helpers.js';

/** A study of cmd: stages: one fit per config writes metrics.json (git-ignored, as outputs are). */
function study(): string {
  return makeProject({
    '.gitignore': 'out/\ncache/\n.pipeline/\n',
    'configs/shared.yaml': 'train: { lr: 0.1, epochs: 3 }\nseed: 1\n',
    'configs/a.yaml': 'extends: shared.yaml\n',
    'configs/b.yaml': 'extends: shared.yaml\ntrain: { lr: 0.3 }\n',
    'fit.mjs': [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      'const [out, lr, epochs] = process.argv.slice(2);',
      "mkdirSync(out.replace(/[^/]*$/, ''), { recursive: true });",
      'const loss = Number((1 / (1 + Number(lr) * Number(epochs))).toFixed(6));',
      "writeFileSync(out, JSON.stringify({ val: { loss, acc: Number((1 - loss).toFixed(6)) }, epochs: Number(epochs), curve: [1, 2] }));",
    ].join('\n'),
    'pipeline.yaml': [
      'stages:',
      '  fit:',
      '    matrix: { exp: "configs/[!s]*.yaml" }',
      '    cmd: node fit.mjs out/${exp.name}/metrics.json ${train.lr} ${train.epochs}',
      '    deps: [fit.mjs]',
      '    params: ${exp}',
      '    outs:',
      '      - out/${exp.name}',
      '    metrics:',
      '      - out/${exp.name}/metrics.json',
    ].join('\n'),
  });
}

function committedStudy(): string {
  const dir = study();
  assert.equal(cli(dir, ['run']).code, 0);
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline');
  return dir;
}

describe('pipeline exp show', () => {
  it('one row per instance with metrics: the params that entered its key and the metrics, flattened', () => {
    const dir = study();
    assert.equal(cli(dir, ['run']).code, 0);
    const r = cli(dir, ['exp', 'show', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { id: 'fit@exp=a', stage: 'fit', params: { seed: 1, 'train.epochs': 3, 'train.lr': 0.1 }, metrics: { epochs: 3, 'val.acc': 0.230769, 'val.loss': 0.769231 } },
      { id: 'fit@exp=b', stage: 'fit', params: { seed: 1, 'train.epochs': 3, 'train.lr': 0.3 }, metrics: { epochs: 3, 'val.acc': 0.473684, 'val.loss': 0.526316 } },
    ]);
    const table = cli(dir, ['exp', 'show', '--only-changed', '--sort', 'val.loss:asc']).stdout.split('\n');
    assert.deepEqual(table[0].split(/\s+/), ['id', 'train.lr', 'val.acc', 'val.loss']);
    assert.match(table[2], /^fit@exp=b\s+0\.3\s+0\.4737\s+0\.5263$/);
    assert.equal(cli(dir, ['exp', 'show', '--csv', '--metrics', 'val.*', '--params', 'train.lr']).stdout, 'id,params.train.lr,metrics.val.acc,metrics.val.loss\nfit@exp=a,0.1,0.2308,0.7692\nfit@exp=b,0.3,0.4737,0.5263\n');
    assert.match(cli(dir, ['exp', 'show', '--md', 'fit@exp=a']).stdout, /^\| id \| seed \| train\.epochs \| train\.lr \| epochs \| val\.acc \| val\.loss \|\n\|---\|/);
  });
});

describe('pipeline params diff / metrics diff (real git repositories)', () => {
  it('params diff: config values changed since HEAD, resolved through extends:', () => {
    const dir = committedStudy();
    writeFiles(dir, { 'configs/shared.yaml': 'train: { lr: 0.1, epochs: 5 }\nseed: 1\n' });
    const r = cli(dir, ['params', 'diff', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      'configs/a.yaml': { 'train.epochs': { old: 3, new: 5 } },
      'configs/b.yaml': { 'train.epochs': { old: 3, new: 5 } },
      'configs/shared.yaml': { 'train.epochs': { old: 3, new: 5 } },
    });
  });

  it('metrics diff: old values come from the cache through the lock committed at REV (the metrics files are git-ignored)', () => {
    const dir = committedStudy();
    writeFiles(dir, { 'configs/b.yaml': 'extends: shared.yaml\ntrain: { lr: 1 }\n' });
    assert.equal(cli(dir, ['run']).code, 0);
    const r = cli(dir, ['metrics', 'diff', 'HEAD', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const diff = JSON.parse(r.stdout) as Record<string, Record<string, { old: number; new: number; diff: number }>>;
    assert.deepEqual(Object.keys(diff), ['out/b/metrics.json']);
    assert.deepEqual(diff['out/b/metrics.json']['val.loss'], { old: 0.526316, new: 0.25, diff: 0.25 - 0.526316 });
    assert.match(cli(dir, ['metrics', 'diff']).stdout, /out\/b\/metrics\.json\s+val\.loss\s+0\.5263\s+0\.25\s+-0\.2763/);

    rmSync(path.join(dir, 'cache'), { recursive: true });
    const gone = cli(dir, ['metrics', 'diff', '--json']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /missing: out\/b\/metrics\.json \(fit@exp=b\) at HEAD: cache object [0-9a-f]{12}… \(out out\/b\) is not in the cache; run `pipeline cache pull`/);
  });

  it('bad input: one clear line each, exit 2, nothing written', () => {
    const dir = committedStudy();
    const unknown = cli(dir, ['params', 'diff', 'no-such-branch']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'error: unknown revision "no-such-branch" (a commit, branch or tag; see git log)\n');
    const notGit = study();
    assert.equal(cli(notGit, ['run']).code, 0);
    const r = cli(notGit, ['metrics', 'diff']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: .* is not in a git repository: params\/metrics diff compare the workspace with a git revision/);

    writeFiles(dir, { 'out/a/metrics.json': '{ not json' });
    const bad = cli(dir, ['metrics', 'diff']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: out\/a\/metrics\.json is not JSON \(.*\); a metrics file is a JSON or YAML mapping\n$/);

    writeFiles(dir, { 'pipeline.lock': 'schema: 0\nstages: {}\n' });
    git(dir, 'commit', '-q', '-am', 'old lock');
    writeFiles(dir, { 'out/a/metrics.json': '{}' });
    const old = cli(dir, ['metrics', 'diff']);
    assert.equal(old.code, 2);
    assert.match(old.stderr, /^error: pipeline\.lock at HEAD has schema 0; this pipeline reads schema 1/);
  });
});
