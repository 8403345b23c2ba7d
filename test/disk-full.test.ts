import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, executions, makeProject, read, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';
import { s3Skip, startS3 } from './support/s3-server.js';

/**
 * A full disk, for real: each test mounts a small tmpfs (the tests run as root) where the cache,
 * the project or the logs live, fills it, and checks that pipeline stops with one clear
 * paragraph and exit 1, leaves no temp file, keeps what finished, and finishes once there is room.
 */

const mounts: string[] = [];
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('pipeline-tmpfs-probe-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

function tmpfs(size: string): string {
  const dir = tempDir('pipeline-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  mounts.push(dir);
  return dir;
}

function grow(dir: string, size: string): void {
  const r = spawnSync('mount', ['-o', `remount,size=${size}`, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Every file under `dir` whose name marks it as a temp file of pipeline's. */
function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.tmp$/.test(p));
}

function assertCleanParagraph(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
  assert.match(stderr, /Nothing half-written was left behind/);
}

const skip = !canMount ? (process.env.PIPELINE_REQUIRE_SERVICES === '1' ? false : 'needs root to mount a tmpfs') : false;

describe('a full disk', { skip }, () => {
  after(() => {
    for (const dir of mounts) spawnSync('umount', ['-l', dir]);
  });

  it('while storing an out in the cache: one paragraph, exit 1, finished stages kept, the next run with room finishes', () => {
    const cache = tmpfs('1m');
    const dir = makeProject({
      'pipeline.yaml': [
        'stages:',
        '  small:',
        '    cmd: echo small >> runs.log && mkdir -p out && echo hi > out/small.txt',
        '    outs: [out/small.txt]',
        '  big:',
        '    cmd: echo big >> runs.log && head -c 3000000 /dev/urandom > out/big.bin',
        '    deps: [out/small.txt]',
        '    outs: [out/big.bin]',
      ].join('\n'),
    });
    const env = { PIPELINE_CACHE_DIR: cache };
    const r = cli(dir, ['run'], env);
    assert.equal(r.code, 1, r.stderr);
    assertCleanParagraph(r.stderr, new RegExp(`the disk is full: could not write out out/big\\.bin of big \\(2\\.9 MB\\) to ${cache}; [\\d.]+ [KM]?B free there\\.`));
    assert.match(r.stderr, /PIPELINE_CACHE_DIR=\/path\/with\/room/);
    assert.deepEqual(tempFiles(cache), []);
    assert.match(read(dir, 'pipeline.lock'), /^ {2}small:/m, 'the finished stage is in pipeline.lock');
    assert.doesNotMatch(read(dir, 'pipeline.lock'), /^ {2}big:/m);
    grow(cache, '16m');
    const again = cli(dir, ['run'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(executions(dir), ['small', 'big', 'big'], 'small was not rerun');
  });

  it('while writing a stage log', () => {
    const cache = tmpfs('1m');
    const dir = makeProject({
      'pipeline.yaml': ['stages:', '  noisy:', "    cmd: echo noisy >> runs.log && head -c 3000000 /dev/zero | tr '\\0' y && echo ok > out.txt", '    outs: [out.txt]'].join('\n'),
    });
    const r = cli(dir, ['run'], { PIPELINE_CACHE_DIR: cache });
    assert.equal(r.code, 1, r.stderr);
    assertCleanParagraph(r.stderr, new RegExp(`the disk is full: could not write the log of noisy to ${cache}/logs`));
    assert.deepEqual(tempFiles(cache), []);
    grow(cache, '16m');
    assert.equal(cli(dir, ['run'], { PIPELINE_CACHE_DIR: cache }).code, 0);
  });

  it('while writing pipeline.lock: the old lock stays, the next run restores instead of rerunning', () => {
    const project = tmpfs('1m');
    const cache = tempDir('pipeline-cache-');
    writeFiles(project, {
      'pipeline.yaml': ['stages:', '  fill:', '    cmd: echo fill >> runs.log && echo x > out.txt && (cat /dev/zero > filler 2>/dev/null || true)', '    outs: [out.txt]'].join('\n'),
    });
    const r = cli(project, ['run'], { PIPELINE_CACHE_DIR: cache });
    assert.equal(r.code, 1, r.stderr);
    assertCleanParagraph(r.stderr, new RegExp(`the disk is full: could not write pipeline\\.lock \\(\\d+ B\\) to ${project}; 0 B free there`));
    assert.ok(!existsSync(path.join(project, 'pipeline.lock')));
    assert.deepEqual(tempFiles(project), []);
    rmSync(path.join(project, 'filler'));
    const again = cli(project, ['run'], { PIPELINE_CACHE_DIR: cache });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(executions(project), ['fill'], 'restored from the run cache, not rerun');
    assert.match(read(project, 'pipeline.lock'), /^ {2}fill:/m);
  });

  const pullIntoFullCache = (remoteFor: (built: string) => { url: string; env: Record<string, string> }) => {
    const built = makeProject({
      'pipeline.yaml': ['stages:', '  big:', '    cmd: mkdir -p out && for i in 1 2 3 4 5 6; do head -c 300000 /dev/urandom > out/b$i; done', '    outs: [out]'].join('\n'),
    });
    const remote = remoteFor(built);
    assert.equal(cli(built, ['run', '--push'], { ...remote.env, PIPELINE_REMOTE: remote.url }).code, 0);
    const project = makeProject({});
    for (const file of ['pipeline.yaml', 'pipeline.lock']) cpSync(path.join(built, file), path.join(project, file));
    const cache = tmpfs('1m');
    const env = { ...remote.env, PIPELINE_REMOTE: remote.url, PIPELINE_CACHE_DIR: cache, PIPELINE_TRANSFER_JOBS: '1' };
    const r = cli(project, ['cache', 'pull'], env);
    assert.equal(r.code, 1, r.stderr);
    assertCleanParagraph(r.stderr, new RegExp(`the disk is full: could not write the objects pulled from ${remote.url} to ${cache}`));
    assert.deepEqual(tempFiles(cache), []);
    grow(cache, '16m');
    const again = cli(project, ['run', '--pull', '--frozen'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /pull: 1 run records, \d+ objects .* moved, [1-9]\d* already there/);
    assert.equal(read(project, 'out/b6'), read(built, 'out/b6'));
  };

  it('while pulling from a remote into the cache: what arrived stays, the next pull with room fetches the rest', () => {
    pullIntoFullCache(() => ({ url: tempDir('pipeline-remote-'), env: {} }));
  });

  it('while pulling from an S3 remote (real Ceph radosgw) into the cache', { skip: s3Skip }, () => {
    const s3 = startS3();
    try {
      pullIntoFullCache(() => ({ url: `s3://${s3.bucket}/full-disk`, env: s3.env }));
    } finally {
      s3.stop();
    }
  });

  it('while restoring an out into the project', () => {
    const built = makeProject({
      'pipeline.yaml': ['stages:', '  big:', '    cmd: echo big >> runs.log && mkdir -p out && head -c 3000000 /dev/urandom > out/big.bin', '    outs: [out]'].join('\n'),
    });
    const cache = path.join(built, 'cache');
    assert.equal(cli(built, ['run']).code, 0);
    const project = tmpfs('1m');
    for (const file of ['pipeline.yaml', 'pipeline.lock']) cpSync(path.join(built, file), path.join(project, file));
    mkdirSync(path.join(project, 'out'));
    const r = cli(project, ['run', '--frozen'], { PIPELINE_CACHE_DIR: cache });
    assert.equal(r.code, 1, r.stderr);
    assertCleanParagraph(r.stderr, new RegExp(`the disk is full: could not write out out \\(2\\.9 MB\\) to ${project}; [\\d.]+ [KM]?B free there\\.`));
    assert.deepEqual(tempFiles(project), []);
    assert.ok(!existsSync(path.join(project, 'out')), 'no half-restored out');
    grow(project, '16m');
    const again = cli(project, ['run', '--frozen'], { PIPELINE_CACHE_DIR: cache });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(read(project, 'out/big.bin'), read(built, 'out/big.bin'));
  });
});
