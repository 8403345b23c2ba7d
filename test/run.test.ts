import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import jsYaml from 'js-yaml';
import { ContentHasher } from '../src/hash/content-hasher.js';
import { StatCache } from '../src/hash/stat-cache.js';
import { writeSummary } from '../src/run/noop-summary.js';
import { openWorkspace } from '../src/session/session.js';
import { cli, executions, jsonEvents, makeProject, read, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';

/** a -> b -> c (fan-out to c@n=1, c@n=2), each appending its id to runs.log when it executes. */
function threeStages(extra: Record<string, string> = {}): string {
  return makeProject({
    'data/in.txt': 'hello\n',
    'params.yaml': 'b:\n  k: 1\n  unrelated: x\n',
    'pipeline.yaml': [
      'version: 1',
      'params: [params.yaml]',
      'stages:',
      '  a:',
      '    cmd: echo a >> runs.log && tr a-z A-Z < data/in.txt > out/a.txt',
      '    deps: [data/in.txt]',
      '    outs: [out/a.txt]',
      '  b:',
      '    cmd: echo b >> runs.log && (cat out/a.txt; echo k=${b.k}) > out/b.txt',
      '    deps: [out/a.txt]',
      '    params: [b.k]',
      '    outs: [out/b.txt]',
      '  c:',
      '    matrix: { n: [1, 2] }',
      '    cmd: echo c${n} >> runs.log && (cat out/b.txt; echo n=${n}) > out/c${n}.txt',
      '    deps: [out/b.txt]',
      '    outs:',
      '      - out/c${n}.txt',
    ].join('\n'),
    ...extra,
  });
}

describe('incremental runs', () => {
  it('runs everything once, then nothing; touch reruns nothing', () => {
    const dir = threeStages();
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir).sort(), ['a', 'b', 'c1', 'c2']);
    assert.equal(read(dir, 'out/c2.txt'), 'HELLO\nk=1\nn=2\n');
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 4, 'a no-op run executes nothing');
    const future = new Date(Date.now() + 5000);
    utimesSync(path.join(dir, 'data/in.txt'), future, future);
    utimesSync(path.join(dir, 'out/a.txt'), future, future);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 4, 'touch-only changes rerun nothing');
    assert.match(cli(dir, ['status']).stdout, /everything is up to date/);
  });

  it('a param change reruns only the stages that name it, and status says why', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    writeFiles(dir, { 'params.yaml': 'b:\n  k: 1\n  unrelated: y\n' });
    assert.match(cli(dir, ['status']).stdout, /everything is up to date/, 'unnamed params do not enter keys');
    writeFiles(dir, { 'params.yaml': 'b:\n  k: 2\n  unrelated: y\n' });
    const status = cli(dir, ['status']).stdout;
    assert.match(status, /^b: param b\.k 1 -> 2$/m);
    assert.match(status, /^c@n=1: upstream b changed$/m);
    assert.doesNotMatch(status, /^a:/m);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir).slice(4).sort(), ['b', 'c1', 'c2']);
  });

  it('a dep content change names the dep', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    writeFiles(dir, { 'data/in.txt': 'changed\n' });
    assert.match(cli(dir, ['status']).stdout, /^a: dep data\/in\.txt changed$/m);
  });

  it('early cutoff: identical outs do not make dependents stale', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    writeFiles(dir, { 'data/in.txt': 'HELLO\n' }); // a's output (uppercased) is byte-identical
    const r = cli(dir, ['run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(executions(dir).slice(4), ['a']);
    const skipped = jsonEvents(r.stdout).filter((e) => e.event === 'skipped').map((e) => e.stage);
    assert.deepEqual(skipped.sort(), ['b', 'c@n=1', 'c@n=2']);
  });

  it('switching a param back restores from the run cache instead of running', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    writeFiles(dir, { 'params.yaml': 'b:\n  k: 2\n' });
    cli(dir, ['run']);
    writeFiles(dir, { 'params.yaml': 'b:\n  k: 1\n' });
    assert.match(cli(dir, ['run', '-n']).stdout, /restore\s+b\s+param b\.k 2 -> 1/);
    const r = cli(dir, ['run', '--json']);
    assert.equal(executions(dir).length, 7, 'nothing executed on switching back');
    const restored = jsonEvents(r.stdout).filter((e) => e.event === 'restored').map((e) => e.stage);
    assert.deepEqual(restored.sort(), ['b', 'c@n=1', 'c@n=2']);
    assert.equal(read(dir, 'out/c1.txt'), 'HELLO\nk=1\nn=1\n');
  });

  it('a deleted or edited out is restored from the cache, verified, without running', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    rmSync(path.join(dir, 'out/c1.txt'));
    writeFiles(dir, { 'out/b.txt': 'tampered\n' });
    const status = cli(dir, ['status']).stdout;
    assert.match(status, /^b: out out\/b\.txt modified/m);
    assert.match(status, /^c@n=1: out out\/c1\.txt missing/m);
    assert.doesNotMatch(status, /^c@n=2/m, 'a restored upstream with known outs does not make c@n=2 stale');
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 4);
    assert.equal(read(dir, 'out/b.txt'), 'HELLO\nk=1\n');
    assert.equal(read(dir, 'out/c1.txt'), 'HELLO\nk=1\nn=1\n');
  });

  it('editing a restored file never changes the cached object', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    rmSync(path.join(dir, 'out/a.txt'));
    cli(dir, ['run']);
    writeFileSync(path.join(dir, 'out/a.txt'), 'scribbled\n');
    rmSync(path.join(dir, 'out/a.txt'));
    cli(dir, ['run']);
    assert.equal(read(dir, 'out/a.txt'), 'HELLO\n');
  });

  it('keys do not depend on where the project lives', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    const other = path.join(tempDir('pipeline-moved-'), 'project');
    cpSync(dir, other, { recursive: true });
    rmSync(path.join(other, '.pipeline'), { recursive: true });
    const r = cli(other, ['run', '--json']);
    assert.equal(r.code, 0);
    assert.equal(jsonEvents(r.stdout).filter((e) => e.event === 'skipped').length, 4);
    assert.equal(read(other, 'pipeline.lock'), read(dir, 'pipeline.lock'));
  });

  it('-S overrides a param for one run; --force reruns', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    assert.equal(cli(dir, ['run', 'b', '-S', 'b.k=5']).code, 0);
    assert.equal(read(dir, 'out/b.txt'), 'HELLO\nk=5\n');
    assert.equal(cli(dir, ['run', 'a', '--force']).code, 0);
    assert.deepEqual(executions(dir).slice(4), ['b', 'a']);
  });

  it('the lock file is stable YAML that records key, deps, params and outs', () => {
    const dir = threeStages();
    cli(dir, ['run']);
    const lock = read(dir, 'pipeline.lock');
    assert.match(lock, /^ {2}b:\n {4}key: [0-9a-f]{64}\n {4}cmd: .*\n {4}deps:\n {6}out\/a\.txt: [0-9a-f]{64}\n {4}params:\n {6}b\.k: 1\n {4}outs:\n {6}out\/b\.txt: [0-9a-f]{64}$/m);
    const ids = [...lock.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1]);
    assert.deepEqual(ids, [...ids].sort());
  });
});

describe('targets', () => {
  it('builds a target and its upstream only; globs and instance ids work', () => {
    const dir = threeStages();
    assert.equal(cli(dir, ['run', 'b']).code, 0);
    assert.deepEqual(executions(dir), ['a', 'b']);
    assert.equal(cli(dir, ['run', 'c@n=2']).code, 0);
    assert.deepEqual(executions(dir), ['a', 'b', 'c2']);
    assert.equal(cli(dir, ['run', 'c@*']).code, 0);
    assert.deepEqual(executions(dir), ['a', 'b', 'c2', 'c1']);
  });

  it('an unknown target suggests a close one', () => {
    const dir = threeStages();
    const r = cli(dir, ['run', 'bb']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown target "bb"; did you mean "b"\?/);
  });
});

describe('failures', () => {
  const failing = () =>
    makeProject({
      'pipeline.yaml': [
        'stages:',
        '  bad:',
        '    cmd: echo about to fail; echo details >&2; exit 3',
        '    outs: [bad.txt]',
        '  after_bad:',
        '    cmd: echo x > after.txt',
        '    deps: [bad.txt]',
        '    outs: [after.txt]',
        '  independent:',
        '    cmd: sleep 0.5; echo independent >> runs.log; echo ok > ind.txt',
        '    outs: [ind.txt]',
      ].join('\n'),
    });

  it('reports the stage, exit code and log tail; records nothing for it', () => {
    const dir = failing();
    const r = cli(dir, ['run', '--jobs', '1', 'bad']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad failed: exit code 3/);
    assert.match(r.stderr, /about to fail/);
    assert.match(r.stderr, /details/);
    assert.doesNotMatch(cli(dir, ['status']).stdout, /everything is up to date/);
  });

  it('--keep-going finishes independent branches and skips dependents', () => {
    const dir = failing();
    const r = cli(dir, ['run', '--keep-going', '--json', '--jobs', '2']);
    assert.equal(r.code, 1);
    const events = jsonEvents(r.stdout);
    assert.ok(events.some((e) => e.event === 'finished' && e.stage === 'independent'));
    assert.ok(events.some((e) => e.event === 'blocked' && e.stage === 'after_bad' && e.by === 'bad'));
    assert.deepEqual(executions(dir), ['independent']);
  });

  it('a command that does not write its out fails clearly', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: "true"\n    outs: [never.txt]\n' });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not write never\.txt/);
  });
});

describe('directories and exec bits', () => {
  it('a directory out is a manifest; a dep inside another stage out, and a dep containing outs, make edges', () => {
    const dir = makeProject({
      'pipeline.yaml': [
        'stages:',
        '  gen:',
        '    cmd: mkdir -p d/sub && echo 1 > d/one && echo 2 > d/sub/two && printf "#!/bin/sh\\necho hi\\n" > d/run.sh && chmod +x d/run.sh',
        '    outs: [d]',
        '  use:',
        '    cmd: echo use >> runs.log && cat d/sub/two > use.txt && d/run.sh >> use.txt',
        '    deps: [d/sub]',
        '    outs: [results/use.txt]',
        '  part:',
        '    matrix: { n: [1, 2] }',
        '    cmd: echo ${n} > results/p${n}.txt',
        '    outs:',
        '      - results/p${n}.txt',
        '  summary:',
        '    cmd: cat results/*.txt > summary.txt',
        '    deps: [results]',
        '    outs: [summary.txt]',
      ].join('\n'),
    });
    // `use` writes use.txt, not its declared out: fix the command and rerun.
    writeFiles(dir, { 'pipeline.yaml': read(dir, 'pipeline.yaml').replace('> use.txt && d/run.sh >> use.txt', '> results/use.txt && d/run.sh >> results/use.txt') });
    const r = cli(dir, ['run', 'summary', '--jobs', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'results/use.txt'), '2\nhi\n');
    assert.equal(read(dir, 'summary.txt'), '1\n2\n2\nhi\n');
    rmSync(path.join(dir, 'd'), { recursive: true });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(executions(dir).length, 1, 'the directory was restored, not rebuilt');
    assert.equal(read(dir, 'd/sub/two'), '2\n');
    chmodSync(path.join(dir, 'd/run.sh'), 0o644);
    assert.match(cli(dir, ['status']).stdout, /^gen: out d modified/m, 'the exec bit is part of the content');
  });
});

describe('the no-op shortcut never hides a change', () => {
  it('same-size edits, new config files and params edits after a recorded no-op are all seen', async () => {
    const dir = makeProject({
      'data/in.txt': 'aaaa\n',
      'configs/one.yaml': 'lr: 1\n',
      'pipeline.yaml': [
        'stages:',
        '  fit:',
        '    matrix: { exp: "configs/*.yaml" }',
        '    cmd: echo ${exp.name} >> runs.log && cat data/in.txt > out/${exp.name} && echo ${lr} >> out/${exp.name}',
        '    deps: [data/in.txt]',
        '    params: ${exp}',
        '    outs:',
        '      - out/${exp.name}',
      ].join('\n'),
    });
    const settle = () => new Promise((r) => setTimeout(r, 120)); // past the racy window, so a summary is written
    cli(dir, ['run']);
    await settle();
    cli(dir, ['run']);
    assert.ok(existsSync(path.join(dir, '.pipeline/noop.json')), 'a full up-to-date run leaves a summary');
    assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run/);

    writeFiles(dir, { 'data/in.txt': 'bbbb\n' }); // same size
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['one', 'one']);
    await settle();
    cli(dir, ['run']);

    writeFiles(dir, { 'configs/two.yaml': 'lr: 2\n' });
    cli(dir, ['run']);
    assert.deepEqual(executions(dir), ['one', 'one', 'two']);
    await settle();
    cli(dir, ['run']);

    writeFiles(dir, { 'configs/one.yaml': 'lr: 3\n' });
    cli(dir, ['run']);
    assert.deepEqual(executions(dir), ['one', 'one', 'two', 'one']);
    await settle();
    cli(dir, ['run']);

    rmSync(path.join(dir, 'out/two'));
    const r = cli(dir, ['run', '--json']);
    assert.ok(jsonEvents(r.stdout).some((e) => e.event === 'restored' && e.stage === 'fit@exp=two'));
  });

  it('a summary answers only for the spec file that wrote it (two specs in one folder share .pipeline/)', async () => {
    const dir = makeProject({
      'pipeline.yaml': ['stages:', '  a:', '    cmd: echo a >> runs.log && echo a > a.txt', '    outs: [a.txt]'].join('\n'),
      'other.yaml': ['stages:', '  b:', '    cmd: echo b >> runs.log && echo b > b.txt', '    outs: [b.txt]'].join('\n'),
    });
    cli(dir, ['run']);
    await new Promise((r) => setTimeout(r, 120));
    cli(dir, ['run']);
    assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run/);
    const other = cli(dir, ['-f', 'other.yaml', 'run']);
    assert.doesNotMatch(other.stderr, /nothing changed/);
    assert.deepEqual(executions(dir), ['a', 'b']);
    assert.equal(read(dir, 'b.txt'), 'b\n');
  });

  it('a directory dep is one tree signature in the summary, and a same-size edit deep inside it, an added file or an emptied folder is seen', async () => {
    const dir = makeProject({
      'data/a/1.txt': 'aaaa\n',
      'data/a/b/2.txt': 'bbbb\n',
      'data/c/3.txt': 'cccc\n',
      'pipeline.yaml': ['stages:', '  count:', '    cmd: echo run >> runs.log && find data -type f | sort | xargs cat > out.txt', '    deps: [data]', '    outs: [out.txt]'].join('\n'),
    });
    const settle = () => new Promise((r) => setTimeout(r, 120));
    const runs = () => readFileSync(path.join(dir, 'runs.log'), 'utf8').trim().split('\n').length;
    const settled = async () => {
      await settle();
      cli(dir, ['run']);
      assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run/);
    };
    cli(dir, ['run']);
    await settled();
    const summary = JSON.parse(readFileSync(path.join(dir, '.pipeline/noop.json'), 'utf8')) as { paths: [string, string][] };
    assert.deepEqual(summary.paths.filter(([p]) => p.startsWith('data')).map(([p, sig]) => [p, sig[0]]), [['data', 'T']]);
    for (const [edit, expected] of [
      [() => writeFiles(dir, { 'data/a/b/2.txt': 'BBBB\n' }), 2],
      [() => writeFiles(dir, { 'data/c/4.txt': 'dddd\n' }), 3],
      [() => rmSync(path.join(dir, 'data/c/3.txt')), 4],
      [() => rmSync(path.join(dir, 'data/c/4.txt')), 5],
    ] as const) {
      edit();
      assert.equal(cli(dir, ['run']).code, 0);
      assert.equal(runs(), expected);
      await settled();
    }
  });
});

describe('the no-op summary after a build', () => {
  it('is written over outs of the last moments only once they are re-read unchanged: a same-tick rewrite is never hidden', async () => {
    for (const rewrite of [false, true]) {
      const dir = makeProject({ 'pipeline.yaml': ['stages:', '  late:', '    cmd: printf aaaa > out.txt', '    outs: [out.txt]'].join('\n') });
      writeFiles(dir, { 'out.txt': 'aaaa' }); // as the stage just wrote it: inside the racy window
      const ws = openWorkspace({ specFile: path.join(dir, 'pipeline.yaml') });
      await ws.hasher.hash('out.txt');
      if (rewrite) {
        // Same size, and the mtime set back to the nanosecond: the stat signature cannot tell.
        const mtime = execFileSync('stat', ['-c', '%.9Y', 'out.txt'], { cwd: dir, encoding: 'utf8' }).trim();
        writeFiles(dir, { 'out.txt': 'bbbb' });
        execFileSync('touch', ['-d', `@${mtime}`, 'out.txt'], { cwd: dir });
      }
      // Past the window by the time the summary is written (a long run): still re-read.
      await new Promise((r) => setTimeout(r, 80));
      await writeSummary(ws);
      await ws.close();
      assert.equal(existsSync(path.join(dir, '.pipeline/noop.json')), !rewrite, rewrite ? 'rewritten: no summary' : 'unchanged: a summary');
    }
  });

  it('is written after a cold build of thousands of small outs, each hashed the moment its stage wrote it', async () => {
    const count = 3000;
    const dir = makeProject({ 'pipeline.yaml': 'stages: {}\n', 'o/.keep': '' });
    const ws = openWorkspace({ specFile: path.join(dir, 'pipeline.yaml') });
    for (let i = 0; i < count; i++) {
      writeFiles(dir, { [`o/${i}.txt`]: `out ${i}\n` });
      await ws.hasher.hash(`o/${i}.txt`);
    }
    assert.ok(ws.hasher.racyAtObservation('o/0.txt'), 'observed inside the racy window, as a run observes its outs');
    await ws.close();
    await writeSummary(ws);
    const summary = JSON.parse(readFileSync(path.join(dir, '.pipeline/noop.json'), 'utf8')) as { paths: [string, string, string?][] };
    assert.equal(summary.paths.length, count);
  });

  it('makes the first no-op after a cold build a shortcut', async () => {
    const dir = makeProject({ 'in.txt': 'x\n', 'pipeline.yaml': ['stages:', '  a:', '    cmd: cp in.txt a.txt', '    deps: [in.txt]', '    outs: [a.txt]'].join('\n') });
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run/);
  });
});

describe('a run after a no-op check that failed', () => {
  it('takes what the check found unchanged from it, and hashes a changed directory dep as a hasher starting from nothing would', async () => {
    const dir = makeProject({
      'data/a/1.txt': 'one\n',
      'data/a/2.txt': 'two\n',
      'data/b/3.txt': 'three\n',
      'data/c/x.sh': 'echo x\n',
      'data/c/d/4.txt': 'four\n',
      'other/5.txt': 'five\n',
      'pipeline.yaml': ['stages:', '  use:', '    cmd: echo run >> runs.log && find data other -type f | sort | xargs cat > out.txt', '    deps: [data, other]', '    outs: [out.txt]'].join('\n'),
    });
    chmodSync(path.join(dir, 'data/c/x.sh'), 0o755);
    const settle = () => new Promise((r) => setTimeout(r, 120));
    const fromScratch = async (rel: string) => (await new ContentHasher(dir, new StatCache(path.join(dir, 'no-stat-cache.tsv'))).hash(rel)).hash;
    await settle();
    cli(dir, ['run']);
    await settle();
    assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run|0 ran/);
    await settle();
    cli(dir, ['run']);
    const summary = JSON.parse(readFileSync(path.join(dir, '.pipeline/noop.json'), 'utf8')) as { paths: [string, string, string?, number?, Record<string, string>?][] };
    assert.deepEqual(Object.keys(summary.paths.find(([p]) => p === 'data')?.[4] ?? {}).sort(), ['', 'a', 'b', 'c', 'c/d']);
    writeFiles(dir, { 'data/a/1.txt': 'ONE\n', 'data/b/new.txt': 'new\n' });
    chmodSync(path.join(dir, 'data/a/2.txt'), 0o755);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(readFileSync(path.join(dir, 'runs.log'), 'utf8').trim().split('\n').length, 2);
    const lock = jsYaml.load(read(dir, 'pipeline.lock')) as { stages: Record<string, { deps: Record<string, string> }> };
    assert.equal(lock.stages.use!.deps.data, await fromScratch('data'));
    assert.equal(lock.stages.use!.deps.other, await fromScratch('other'));
    await settle();
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(cli(dir, ['run']).stderr, /nothing changed since the last full run/);
  });
});

describe('status names what changed inside a directory dep', () => {
  it('modified, added and removed files by name (a few, then a count), again on a second status, and nothing after the run', async () => {
    const files: Record<string, string> = { 'pipeline.yaml': ['stages:', '  count:', '    cmd: find data -type f | wc -l > out.txt', '    deps: [data]', '    outs: [out.txt]'].join('\n') };
    for (let i = 0; i < 8; i++) files[`data/sub/f${i}.txt`] = `file ${i}\n`;
    const dir = makeProject(files);
    await new Promise((r) => setTimeout(r, 120)); // past the racy window, so the stat cache records them
    assert.equal(cli(dir, ['run']).code, 0);
    writeFiles(dir, { 'data/sub/f3.txt': 'FILE 3\n', 'data/new.txt': 'new\n' });
    for (const f of ['f5', 'f6', 'f7']) rmSync(path.join(dir, `data/sub/${f}.txt`));
    const expected = /^count: dep data changed: sub\/f3\.txt modified, new\.txt added, 3 files removed \(sub\/f5\.txt, sub\/f6\.txt, sub\/f7\.txt\)$/m;
    assert.match(cli(dir, ['status']).stdout, expected);
    assert.match(cli(dir, ['status']).stdout, expected, 'status leaves the baseline alone');
    assert.match(cli(dir, ['run']).stderr + cli(dir, ['status']).stdout, /everything is up to date/);
  });
});

describe('stage environment', () => {
  it('exports PIPELINE_CPUS: resources.cpu, else the cores shared among --jobs', () => {
    const dir = makeProject({
      'pipeline.yaml': [
        'version: 1',
        'stages:',
        '  shared:',
        '    cmd: echo $PIPELINE_CPUS > out/shared.txt',
        '    outs: [out/shared.txt]',
        '  declared:',
        '    cmd: echo $PIPELINE_CPUS > out/declared.txt',
        '    outs: [out/declared.txt]',
        '    resources: { cpu: 3 }',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run', '--jobs', '1']).code, 0);
    assert.equal(read(dir, 'out/shared.txt').trim(), String(availableParallelism()));
    assert.equal(read(dir, 'out/declared.txt').trim(), '3');
    assert.equal(cli(dir, ['run', '--force', '--jobs', String(availableParallelism() * 2)]).code, 0);
    assert.equal(read(dir, 'out/shared.txt').trim(), '1', 'more jobs than cores: one each');
  });
});
