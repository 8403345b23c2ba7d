import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, cliAsync, executions, makeProject, read, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';

/** A project as git would hold it: everything but cache/, .pipeline/ and the outputs. */
function cloneCommitted(dir: string, withCache: boolean): string {
  const clone = path.join(tempDir('pipeline-clone-'), 'project');
  cpSync(dir, clone, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(dir, src);
      return !(/^(\.pipeline|out|runs\.log)(\/|$)/.test(rel) || (!withCache && /^cache(\/|$)/.test(rel)));
    },
  });
  return clone;
}

function study(): string {
  return makeProject({
    'params.yaml': 'k: 1\n',
    'pipeline.yaml': [
      'params: [params.yaml]',
      'stages:',
      '  gen:',
      '    cmd: echo gen >> runs.log && mkdir -p out/gen && for i in 1 2 3; do echo "$i ${k}" > out/gen/f$i; done',
      '    params: [k]',
      '    outs: [out/gen]',
      '  sum:',
      '    cmd: echo sum >> runs.log && cat out/gen/* > out/sum.txt',
      '    deps: [out/gen]',
      '    outs: [out/sum.txt]',
    ].join('\n'),
  });
}

describe('--frozen: CI builds that execute nothing', () => {
  it('restores every out from the cache in a fresh clone, byte for byte', () => {
    const dir = study();
    assert.equal(cli(dir, ['run']).code, 0);
    const clone = cloneCommitted(dir, true);
    const r = cli(clone, ['run', '--frozen']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(executions(clone), [], 'nothing executed');
    for (const file of ['out/gen/f1', 'out/gen/f3', 'out/sum.txt']) assert.equal(read(clone, file), read(dir, file));
  });

  it('fails, listing each stage and why, when the spec was edited without running', () => {
    const dir = study();
    cli(dir, ['run']);
    const clone = cloneCommitted(dir, true);
    writeFiles(clone, { 'params.yaml': 'k: 2\n' });
    const r = cli(clone, ['run', '--frozen']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--frozen: 2 stage\(s\) would have to run or do not match pipeline\.lock/);
    assert.match(r.stderr, /gen: param k 1 -> 2/);
    assert.match(r.stderr, /sum: upstream gen changed/);
    assert.deepEqual(executions(clone), []);
  });

  it('fails when the cache cannot supply the outs', () => {
    const dir = study();
    cli(dir, ['run']);
    const clone = cloneCommitted(dir, false);
    const r = cli(clone, ['run', '--frozen']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gen: out out\/gen missing/);
    assert.deepEqual(executions(clone), []);
  });
});

describe('cache gc and verify', () => {
  it('gc keeps what the lock and the last N runs need; --dry-run removes nothing', () => {
    const dir = study();
    for (const k of [1, 2, 3, 4]) {
      writeFiles(dir, { 'params.yaml': `k: ${k}\n` });
      assert.equal(cli(dir, ['run']).code, 0);
    }
    const dry = cli(dir, ['cache', 'gc', '--keep-last', '1', '--dry-run']);
    assert.match(dry.stdout, /would remove 6 run records and \d+ objects/);
    assert.match(cli(dir, ['cache', 'gc', '--keep-last', '1']).stdout, /removed 6 run records/);
    assert.match(cli(dir, ['status']).stdout, /everything is up to date/);
    writeFiles(dir, { 'params.yaml': 'k: 1\n' });
    cli(dir, ['run']);
    assert.equal(executions(dir).filter((e) => e === 'gen').length, 5, 'k=1 was collected, so it runs again');
  });

  it('verify finds and quarantines a corrupt object; the stage then runs instead of restoring it', () => {
    const dir = study();
    cli(dir, ['run']);
    const objects = path.join(dir, 'cache/objects');
    const hash = createHash('sha256').update('1 1\n').digest('hex');
    const file = path.join(objects, hash.slice(0, 2), hash.slice(2));
    chmodSync(file, 0o644);
    writeFileSync(file, 'rotten\n');
    const r = cli(dir, ['cache', 'verify']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`corrupt ${hash}`));
    assert.ok(existsSync(path.join(dir, 'cache/quarantine', hash)));
    assert.match(cli(dir, ['cache', 'verify']).stdout, /0 corrupt/);
    cli(dir, ['run', '--force', 'gen']); // back to k=1 outs but through a run
    assert.equal(read(dir, 'out/gen/f1'), '1 1\n');
  });
});

describe('remotes', () => {
  it('a directory remote: push, then a fresh clone pulls and builds with --frozen', () => {
    const dir = study();
    const remote = tempDir('pipeline-remote-');
    writeFiles(dir, { '.pipeline/config.yaml': `remote:\n  url: ${remote}\n` });
    assert.equal(cli(dir, ['run', '--push']).code, 0);
    assert.ok(readdirSync(path.join(remote, 'runs')).length === 2);
    const clone = cloneCommitted(dir, false);
    const r = cli(clone, ['run', '--pull', '--frozen'], { PIPELINE_REMOTE: remote });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pull: 2 run records, \d+ objects/);
    assert.equal(read(clone, 'out/sum.txt'), read(dir, 'out/sum.txt'));
    const again = cli(dir, ['cache', 'push']);
    assert.match(again.stderr, /push: 2 run records, 0 objects .* moved, \d+ already there/);
  });

  it('a kill -9 mid-push leaves temp files on a directory remote; gc --remote removes them and the unreferenced objects', async () => {
    const dir = makeProject({
      'pipeline.yaml': ['stages:', '  blobs:', '    cmd: mkdir -p out && for i in 1 2 3 4 5 6; do head -c 30000000 /dev/urandom > out/b$i; done', '    outs: [out]'].join('\n'),
    });
    const remote = tempDir('pipeline-remote-');
    assert.equal(cli(dir, ['run']).code, 0);
    const child = cliAsync(dir, ['cache', 'push'], { PIPELINE_REMOTE: remote, PIPELINE_TRANSFER_JOBS: '1' });
    const temps = () => (existsSync(path.join(remote, 'objects')) ? (readdirSync(path.join(remote, 'objects'), { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp')) : []);
    const start = Date.now();
    // Stopped the moment a temp file shows, so the kill lands mid-copy rather than between files.
    for (;;) {
      while (temps().length === 0 && Date.now() - start < 20000) await new Promise((r) => setTimeout(r, 1));
      child.kill('SIGSTOP');
      if (temps().length > 0 || Date.now() - start > 20000) break;
      child.kill('SIGCONT');
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(temps().length, 1, 'the killed copy left its temp file');
    assert.ok(!existsSync(path.join(remote, 'runs')), 'no run record without its objects');
    const gc = cli(dir, ['cache', 'gc', '--remote', '--grace', '0'], { PIPELINE_REMOTE: remote });
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /removed 0 run records and \d+ objects .*; kept 0 run records, 0 objects\nremoved 1 partial uploads that interrupted pushes left.*: objects\/[0-9a-f]{2}\/\.[0-9a-f]{62}\.\d+\.\w+\.\d+\.tmp\n/);
    assert.deepEqual(temps(), []);
    assert.equal(cli(dir, ['cache', 'push'], { PIPELINE_REMOTE: remote }).code, 0);
    assert.match(cli(dir, ['cache', 'gc', '--remote', '--grace', '0'], { PIPELINE_REMOTE: remote }).stdout, /removed 0 run records and 0 objects .*; kept 1 run records, 7 objects\n$/);
  });

  it("a DVC repository's default remote is used when nothing else is configured (a relative path is relative to .dvc/, as DVC reads it)", () => {
    const dir = study();
    writeFiles(dir, { '.dvc/config': "[core]\n    remote = shared\n['remote \"shared\"']\n    url = ../shared-remote\n" });
    const r = cli(dir, ['run', '--push']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /remote: DVC's default remote "shared" \(\.dvc\/config\): \/.*\/shared-remote/);
    assert.equal(readdirSync(path.join(dir, 'shared-remote', 'runs')).length, 2);
    writeFiles(dir, { '.dvc/config': "[core]\n    remote = gcs\n['remote \"gcs\"']\n    url = gs://bucket/x\n" });
    const refused = cli(dir, ['cache', 'push']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /no cache remote is configured, and the DVC remote "gcs" is gs:\/\/, which pipeline does not serve/);
  });

  it('without a remote, says how to configure one', () => {
    const dir = study();
    const r = cli(dir, ['cache', 'push']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no cache remote is configured: add `remote: \{ url:/);
  });
});

const webdavScript = fileURLToPath(new URL('../../test/support/webdav-local.sh', import.meta.url));
const nginxAvailable = spawnSync('sh', ['-c', 'command -v nginx || [ "$(id -u)" = 0 ]']).status === 0;
const requireServices = process.env.PIPELINE_REQUIRE_SERVICES === '1';

describe('HTTP/WebDAV remote (real nginx)', { skip: !nginxAvailable && !requireServices ? 'nginx not installed (CI installs it)' : false }, () => {
  const port = String(20000 + (process.pid % 20000));
  const served = tempDir('pipeline-webdav-');
  const state = tempDir('pipeline-webdav-state-');
  const webdav = (...args: string[]) => spawnSync('bash', [webdavScript, ...args], { encoding: 'utf8', env: { ...process.env, WEBDAV_LOCAL_STATE: state } });
  const url = `http://127.0.0.1:${port}/cache`;

  before(() => {
    const r = webdav('start', port, served);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    webdav('stop', port);
  });

  function bigStudy(): string {
    return makeProject({
      'pipeline.yaml': [
        'stages:',
        '  blobs:',
        '    cmd: mkdir -p out/blobs && for i in $(seq 1 300); do head -c 65536 /dev/urandom > out/blobs/b$i; done',
        '    outs: [out/blobs]',
      ].join('\n'),
    });
  }

  it('push survives the server dying mid-transfer; nothing partial is ever served as valid', async () => {
    const dir = bigStudy();
    writeFiles(dir, { '.pipeline/config.yaml': `remote:\n  url: ${url}\n` });
    assert.equal(cli(dir, ['run']).code, 0);
    // One transfer at a time, so there is a moment to pull the plug mid-push.
    const child = cliAsync(dir, ['cache', 'push'], { PIPELINE_TRANSFER_JOBS: '1' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const objectsDir = path.join(served, 'cache/objects');
    const count = () => (existsSync(objectsDir) ? readdirSync(objectsDir).reduce((n, d) => n + readdirSync(path.join(objectsDir, d)).length, 0) : 0);
    const start = Date.now();
    while (count() < 20 && Date.now() - start < 20000) await new Promise((r) => setTimeout(r, 5));
    webdav('stop', port);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0, 'the push notices the server is gone');
    assert.match(stderr, /remote http:\/\/127\.0\.0\.1:\d+\/cache: (PUT|HEAD) .* failed/);
    assert.ok(!existsSync(path.join(served, 'cache/runs')), 'no run record without its objects');
    for (const prefix of readdirSync(objectsDir)) {
      for (const rest of readdirSync(path.join(objectsDir, prefix))) {
        const bytes = readFileSync(path.join(objectsDir, prefix, rest));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), prefix + rest, 'every stored object is whole');
      }
    }
    assert.equal(webdav('start', port, served).status, 0);
    const resumed = cli(dir, ['cache', 'push']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /push: 1 run records, \d+ objects .* moved, [1-9]\d* already there/);
    const clone = cloneCommitted(dir, false);
    const pulled = cli(clone, ['run', '--pull', '--frozen'], { PIPELINE_REMOTE: url });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(read(clone, 'out/blobs/b300'), read(dir, 'out/blobs/b300'));
  });

  it('gc --remote lists the server over WebDAV (PROPFIND), keeps what the lock and the newest runs need, deletes the rest', () => {
    const dir = study();
    const remote = `${url}-gc`;
    for (const k of [1, 2, 3]) {
      writeFiles(dir, { 'params.yaml': `k: ${k}\n` });
      assert.equal(cli(dir, ['run', '--push'], { PIPELINE_REMOTE: remote }).code, 0);
    }
    assert.equal(readdirSync(path.join(served, 'cache-gc/runs')).length, 6);
    const dry = cli(dir, ['cache', 'gc', '--remote', '--keep-last', '1', '--grace', '0', '--dry-run'], { PIPELINE_REMOTE: remote });
    assert.match(dry.stdout, /would remove 4 run records and \d+ objects/);
    assert.equal(readdirSync(path.join(served, 'cache-gc/runs')).length, 6, '--dry-run removes nothing');
    const gc = cli(dir, ['cache', 'gc', '--remote', '--keep-last', '1', '--grace', '0'], { PIPELINE_REMOTE: remote });
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /removed 4 run records and [1-9]\d* objects .*; kept 2 run records, [1-9]\d* objects/);
    assert.equal(readdirSync(path.join(served, 'cache-gc/runs')).length, 2);
    const gone = createHash('sha256').update('1 1\n').digest('hex');
    assert.ok(!existsSync(path.join(served, 'cache-gc/objects', gone.slice(0, 2), gone.slice(2))), 'the objects of k=1 are gone');
    const clone = cloneCommitted(dir, false);
    const pulled = cli(clone, ['run', '--pull', '--frozen'], { PIPELINE_REMOTE: remote });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(read(clone, 'out/sum.txt'), read(dir, 'out/sum.txt'));
  });
});

describe('--frozen with directory deps that collect several outs', () => {
  it('predicts the collected directory from the outs it will restore', () => {
    const dir = makeProject({
      'pipeline.yaml': [
        'stages:',
        '  part:',
        '    matrix: { n: [1, 2] }',
        '    cmd: mkdir -p out/parts/p${n} && echo ${n} > out/parts/p${n}/v && echo ${n} > out/parts/f${n}',
        '    outs:',
        '      - out/parts/p${n}',
        '      - out/parts/f${n}',
        '  collect:',
        '    cmd: cat out/parts/*/v out/parts/f* > out/all',
        '    deps: [out/parts]',
        '    outs: [out/all]',
        '  one:',
        '    cmd: cat out/parts/p1/v > out/one',
        '    deps: [out/parts/p1/v]',
        '    outs: [out/one]',
      ].join('\n'),
    });
    assert.equal(cli(dir, ['run']).code, 0);
    const clone = cloneCommitted(dir, true);
    const status = cli(clone, ['status']);
    assert.match(status.stdout, /^collect: out out\/all missing \[restorable from cache\]$/m);
    assert.doesNotMatch(status.stdout, /upstream/, 'restored upstream outs are predicted, not treated as changes');
    const r = cli(clone, ['run', '--frozen']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(clone, 'out/all'), read(dir, 'out/all'));
  });
});
