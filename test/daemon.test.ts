import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ChangeWatcher } from '../src/daemon/change-watcher.js';
import type { Summary } from '../src/run/noop-check.js';
import { cli, cliAsync, executions, jsonEvents, makeProject, writeFiles } from './helpers.js';

const started: string[] = [];
after(() => {
  for (const dir of started) cli(dir, ['daemon', 'stop']);
});

function startDaemon(dir: string): void {
  const r = cli(dir, ['daemon', 'start', '--idle', '5']);
  assert.equal(r.code, 0, r.stderr);
  started.push(dir);
}

function served(dir: string): number {
  const r = cli(dir, ['daemon', 'status']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return Number(/(\d+) runs served/.exec(r.stdout)![1]);
}

describe('pipeline daemon', () => {
  it('runs what a run without it would run, and sees every change at once (no stat per path)', () => {
    const dir = makeProject({
      'data/in.txt': 'aaaa\n',
      'images/a/1.txt': '1\n',
      'images/a/b/2.txt': '2\n',
      'images/c/3.txt': '3\n',
      'configs/one.yaml': 'lr: 1\n',
      'pipeline.yaml': [
        'stages:',
        '  fit:',
        '    matrix: { exp: "configs/*.yaml" }',
        '    cmd: echo fit-${exp.name} >> runs.log && cat data/in.txt > out/${exp.name} && echo ${lr} >> out/${exp.name}',
        '    deps: [data/in.txt]',
        '    params: ${exp}',
        '    outs:',
        '      - out/${exp.name}',
        '  count:',
        '    cmd: echo count >> runs.log && find images -type f | sort | xargs cat > count.txt',
        '    deps: [images]',
        '    outs: [count.txt]',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run']).code, 0);
    startDaemon(dir);
    const noop = () => {
      const r = cli(dir, ['run']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /nothing changed since the last full run/);
    };
    noop();
    noop();
    const expect = (edit: () => void, ran: string[]) => {
      const before = executions(dir).length;
      edit();
      const r = cli(dir, ['run']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(executions(dir).slice(before), ran, `after ${edit.toString()}`);
      noop();
    };
    expect(() => writeFiles(dir, { 'data/in.txt': 'bbbb\n' }), ['fit-one']); // same size
    expect(() => writeFiles(dir, { 'images/a/b/new.txt': 'n\n' }), ['count']); // deep inside a directory dep
    expect(() => rmSync(path.join(dir, 'images/c/3.txt')), ['count']);
    expect(() => renameSync(path.join(dir, 'images/a/b'), path.join(dir, 'images/a/z')), ['count']); // a watched folder renamed
    expect(() => {
      rmSync(path.join(dir, 'images'), { recursive: true });
      writeFiles(dir, { 'images/x/9.txt': '9\n' });
    }, ['count']); // the whole dep replaced
    expect(() => writeFiles(dir, { 'images/x/9.txt': '8\n' }), ['count']); // inside the replacement
    expect(() => writeFiles(dir, { 'configs/one.yaml': 'lr: 3\n' }), ['fit-one']);
    expect(() => writeFiles(dir, { 'configs/two.yaml': 'lr: 2\n' }), ['fit-two']); // a new matrix entry
    expect(() => writeFiles(dir, { 'pipeline.yaml': readSpec(dir).replace('find images', 'find ./images') }), ['count']); // the spec itself
    // An out removed behind its back is restored, not rerun.
    rmSync(path.join(dir, 'out/two'));
    const restored = cli(dir, ['run', '--json']);
    assert.ok(jsonEvents(restored.stdout).some((e) => e.event === 'restored' && e.stage === 'fit@exp=two'), restored.stdout);
    assert.equal(served(dir), 21, 'every run went through the daemon');
  });

  it('steps aside for a run in another environment, and for PIPELINE_DAEMON=0', () => {
    const dir = makeProject({
      'in.txt': 'a\n',
      'pipeline.yaml': ['stages:', '  s:', '    cmd: echo "s-$FLAVOUR" >> runs.log && cp in.txt out.txt', '    deps: [in.txt]', '    outs: [out.txt]'].join('\n'),
    });
    startDaemon(dir);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(served(dir), 1);
    writeFiles(dir, { 'in.txt': 'b\n' });
    const other = cli(dir, ['run'], { FLAVOUR: 'vanilla', PIPELINE_DAEMON_DEBUG: '1' });
    assert.equal(other.code, 0);
    assert.match(other.stderr, /environment differs from the daemon's \(FLAVOUR\)/);
    assert.deepEqual(executions(dir), ['s-', 's-vanilla'], 'the stage saw the environment of the command line that ran it');
    assert.equal(served(dir), 1);
    writeFiles(dir, { 'in.txt': 'c\n' });
    assert.equal(cli(dir, ['run'], { PIPELINE_DAEMON: '0' }).code, 0);
    assert.equal(served(dir), 1);
    // The daemon heard nothing of those runs' summaries: it checks everything against the new one.
    writeFiles(dir, { 'in.txt': 'd\n' });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['s-', 's-vanilla', 's-', 's-']);
    assert.equal(served(dir), 2);
  });

  it('a stop during a run lets the run finish', async () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  slow:\n    cmd: sleep 1.5 && echo done > out.txt\n    outs: [out.txt]\n' });
    startDaemon(dir);
    const run = cliAsync(dir, ['run']);
    const exited = new Promise<number | null>((resolve) => run.on('exit', resolve));
    await new Promise((r) => setTimeout(r, 700));
    assert.match(cli(dir, ['daemon', 'stop']).stdout, /stopped/, 'it waits for the run, then stops');
    assert.equal(await exited, 0, 'the run was not cut off');
    assert.equal(readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'done\n');
    assert.equal(cli(dir, ['daemon', 'status']).code, 1, 'gone once the run ended');
  });

  it('says so when none runs; stop stops it', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n' });
    assert.match(cli(dir, ['daemon', 'status']).stdout, /no daemon is running/);
    startDaemon(dir);
    assert.match(cli(dir, ['daemon', 'start']).stdout, /already running/);
    assert.match(cli(dir, ['daemon', 'stop']).stdout, /stopped/);
    assert.equal(cli(dir, ['daemon', 'status']).code, 1);
    assert.equal(cli(dir, ['run']).code, 0, 'a run without a daemon runs by itself');
  });
});

const readSpec = (dir: string) => readFileSync(path.join(dir, 'pipeline.yaml'), 'utf8');

describe('ChangeWatcher', () => {
  const summaryOf = (paths: Summary['paths']): Summary => ({ schema: 6, spec: 'pipeline.yaml', root: '', lockFile: 'pipeline.lock', files: ['pipeline.yaml'], inputs: '', globs: [], ids: [], paths });

  it('marks what changed, everything under a folder that moved, and keeps marks a run did not settle', async () => {
    const dir = makeProject({ 'pipeline.yaml': '', 'pipeline.lock': '', 'a/x.txt': 'x', 'a/y.txt': 'y', 'd/e/f.txt': 'f', 'd/g.txt': 'g' });
    const watcher = new ChangeWatcher(dir, path.join(dir, '.pipeline/daemon'));
    try {
      watcher.arm(summaryOf([['a/x.txt', 's'], ['a/y.txt', 's'], ['d', 'T1:s', 'h', 2, { '': 'x', e: 'y' }]]));
      await watcher.sync();
      // Folders watched only now start dirty: nothing was heard before.
      assert.equal(watcher.snapshot().clean('a/x.txt'), false);
      await watcher.sync();
      let snapshot = watcher.snapshot();
      assert.equal(snapshot.clean('a/x.txt'), true, 'nothing changed since the last snapshot');
      assert.equal(snapshot.clean('d'), true);

      writeFileSync(path.join(dir, 'a/x.txt'), 'X');
      writeFileSync(path.join(dir, 'd/e/f.txt'), 'F');
      await watcher.sync();
      snapshot = watcher.snapshot();
      assert.equal(snapshot.clean('a/x.txt'), false);
      assert.equal(snapshot.clean('a/y.txt'), true);
      assert.equal(snapshot.clean('d'), false, 'a change deep inside a directory dep');
      snapshot.settle(false);
      assert.equal(watcher.snapshot().clean('a/x.txt'), false, 'a run that wrote no summary leaves the marks');

      watcher.arm(summaryOf([['a/x.txt', 's'], ['a/y.txt', 's'], ['d', 'T1:s', 'h', 2, { '': 'x', e: 'y' }]]));
      await watcher.sync();
      watcher.snapshot().settle(true);
      renameSync(path.join(dir, 'a'), path.join(dir, 'b'));
      mkdirSync(path.join(dir, 'a'));
      writeFileSync(path.join(dir, 'a/y.txt'), 'y');
      await watcher.sync();
      snapshot = watcher.snapshot();
      assert.equal(snapshot.clean('a/y.txt'), false, 'its folder was replaced');
      assert.equal(snapshot.clean('d'), true);
      assert.equal(snapshot.clean('../elsewhere.txt'), false, 'outside the project nothing is known clean');

      // .pipeline removed under it: the next sync trusts nothing, and the one after works again.
      rmSync(path.join(dir, '.pipeline'), { recursive: true });
      await watcher.sync();
      assert.equal(watcher.snapshot().clean('a/y.txt'), false);
      await watcher.sync();
      assert.equal(watcher.snapshot().clean('d'), true);
    } finally {
      watcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
