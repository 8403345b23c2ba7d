import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, executions, git, jsonEvents, read, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/dvc-project/', import.meta.url));
const python = spawnSync('python3', ['--version']).status === 0;
const requireServices = process.env.PIPELINE_REQUIRE_SERVICES === '1';

/** A DVC project of Python stages (test/fixtures/dvc-project), unchanged, in a git repository. */
function dvcProject(): string {
  const dir = path.join(tempDir('pipeline-dvc-'), 'project');
  cpSync(fixture, dir, { recursive: true });
  writeFiles(dir, { '.gitignore': 'cache/\n.pipeline/\nruns.log\ntimeline.log\n/models/\n/data/prepared/\n' });
  git(dir, 'init', '-q');
  return dir;
}

describe('a DVC project of Python stages, end to end', { skip: !python && !requireServices ? 'python3 not installed (CI installs it)' : false }, () => {
  it('runs in parallel, reruns as a no-op, reruns only what a param change touches, and compares with exp show and metrics diff', () => {
    const dir = dvcProject();
    const first = cli(dir, ['run', '--jobs', '2']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(executions(dir).sort(), ['evaluate@mean', 'evaluate@median', 'prepare', 'train@mean', 'train@median']);
    const timeline = read(dir, 'timeline.log').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
    assert.deepEqual(timeline, ['start', 'start', 'end', 'end'], 'the two trainings overlapped: dvc repro would have run them one after the other');

    const again = jsonEvents(cli(dir, ['run', '--json']).stdout).at(-1);
    assert.deepEqual([again?.ran, again?.restored], [0, 0], 'a second run is a no-op');

    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'baseline');
    writeFiles(dir, { 'params.yaml': read(dir, 'params.yaml').replace('scale: 1.0', 'scale: 1.1') });
    assert.match(cli(dir, ['status']).stdout, /^train@mean: param train\.scale 1 -> 1\.1$/m, "a value ${train} unpacks is tracked like DVC's");
    const second = cli(dir, ['run', '--jobs', '2']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(executions(dir).slice(5).sort(), ['evaluate@mean', 'evaluate@median', 'train@mean', 'train@median'], 'prepare did not rerun');

    const shown = JSON.parse(cli(dir, ['exp', 'show', '--json']).stdout) as { id: string; metrics: Record<string, number> }[];
    assert.deepEqual(shown.map((r) => r.id).sort(), ['evaluate@mean', 'evaluate@median']);
    const now = (model: string) => (JSON.parse(read(dir, `eval/${model}/metrics.json`)) as { mae: number }).mae;
    assert.equal(shown.find((r) => r.id === 'evaluate@mean')?.metrics.mae, now('mean'));

    const diff = cli(dir, ['metrics', 'diff', 'HEAD', '--json']);
    assert.equal(diff.code, 0, diff.stderr);
    const changes = JSON.parse(diff.stdout) as Record<string, Record<string, { old: number; new: number }>>;
    const old = JSON.parse(gitShow(dir, 'HEAD:eval/mean/metrics.json')) as { mae: number };
    assert.deepEqual(changes['eval/mean/metrics.json'].mae, { old: old.mae, new: now('mean'), diff: now('mean') - old.mae }, 'a cache: false metrics file is compared with the committed one');
    assert.deepEqual(JSON.parse(cli(dir, ['params', 'diff', '--json']).stdout), { 'params.yaml': { 'train.scale': { old: 1, new: 1.1 } } });
  });
});

function gitShow(dir: string, spec: string): string {
  const r = spawnSync('git', ['show', spec], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

