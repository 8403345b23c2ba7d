import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import jsYaml from 'js-yaml';
import { cli, executions, jsonEvents, makeProject, read } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';
import { download, s3Skip, startS3, upload, type S3Server } from './support/s3-server.js';

/**
 * A shared cache is a trust boundary: whoever can write to it can write run records and
 * manifests. Each attack below tampers with a real remote (a directory, and nginx over WebDAV)
 * after an honest push; a colleague's `run --pull` must refuse it, write nothing outside the
 * project, and build correctly by running the stage instead.
 */

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function honestProject(): { dir: string; genKey: string } {
  const dir = makeProject({
    'pipeline.yaml': [
      'stages:',
      '  gen:',
      '    cmd: echo gen >> runs.log && mkdir -p out/gen && for i in 1 2 3; do echo "v$i" > out/gen/f$i; done',
      '    outs: [out/gen]',
      '  sum:',
      '    cmd: echo sum >> runs.log && cat out/gen/* > out/sum.txt',
      '    deps: [out/gen]',
      '    outs: [out/sum.txt]',
    ].join('\n'),
  });
  assert.equal(cli(dir, ['run']).code, 0);
  const lock = jsYaml.load(read(dir, 'pipeline.lock')) as { stages: Record<string, { key: string }> };
  return { dir, genKey: lock.stages.gen.key };
}

/** What a colleague has: the committed files (pipeline.yaml, pipeline.lock), no cache, no outputs. */
function colleagueClone(dir: string): string {
  const clone = path.join(tempDir('pipeline-colleague-'), 'project');
  mkdirSync(clone);
  for (const file of ['pipeline.yaml', 'pipeline.lock']) cpSync(path.join(dir, file), path.join(clone, file));
  return clone;
}

/** Writes an object into a cache/remote directory under its true hash. */
function putObject(root: string, data: string): string {
  const hash = sha(data);
  mkdirSync(path.join(root, 'objects', hash.slice(0, 2)), { recursive: true });
  writeFileSync(path.join(root, 'objects', hash.slice(0, 2), hash.slice(2)), data);
  return hash;
}

/** Replaces gen's out with a crafted manifest (rows as pipeline writes them: [path, hash, exec]). */
function craftManifest(root: string, key: string, rows: unknown[]): void {
  const manifest = putObject(root, JSON.stringify(rows));
  const record = JSON.parse(readFileSync(path.join(root, 'runs', `${key}.json`), 'utf8')) as { outs: Record<string, unknown> };
  record.outs['out/gen'] = { kind: 'dir', hash: manifest };
  writeFileSync(path.join(root, 'runs', `${key}.json`), JSON.stringify(record));
}

interface Attack {
  name: string;
  /** Tampers with the remote's files; returns a path outside the project that must stay absent. */
  tamper: (root: string, key: string, escape: string) => void;
  /** What the refusal (or the fallback) says. */
  expect: RegExp;
  env?: Record<string, string>;
}

const f1 = sha('v1\n');
const attacks: Attack[] = [
  {
    name: 'a manifest path with ..',
    tamper: (root, key) => craftManifest(root, key, [['../../../escaped', f1, 0]]),
    expect: /refused manifest [0-9a-f]{64} \(out out\/gen of runs\/[0-9a-f]{64}\.json\) from .*: the path "\.\.\/\.\.\/\.\.\/escaped" leaves its directory/,
  },
  {
    name: 'an absolute manifest path',
    tamper: (root, key, escape) => craftManifest(root, key, [[escape, f1, 0]]),
    expect: /refused manifest .* is absolute/,
  },
  {
    name: 'a manifest that lists one path twice',
    tamper: (root, key) => craftManifest(root, key, [['f1', f1, 0], ['f1', sha('other\n'), 0]]),
    expect: /refused manifest .*: "f1" is listed twice/,
  },
  {
    name: 'a manifest where a file is also a directory',
    tamper: (root, key) => craftManifest(root, key, [['f1', f1, 0], ['f1/x', f1, 0]]),
    expect: /refused manifest .*: "f1" is both a file and the directory of "f1\/x"/,
  },
  {
    name: 'a huge manifest',
    tamper: (root, key) => craftManifest(root, key, Array.from({ length: 20000 }, (_, i) => [`f${String(i).padStart(6, '0')}`, f1, 0])),
    expect: /refused .* larger than 100000 bytes/,
    env: { PIPELINE_MAX_MANIFEST_BYTES: '100000' },
  },
  {
    name: 'a record whose object names are not hashes',
    tamper: (root, key) => {
      const file = path.join(root, 'runs', `${key}.json`);
      const record = JSON.parse(readFileSync(file, 'utf8')) as { outs: Record<string, { hash: string }> };
      record.outs['out/gen'].hash = '../../../../escaped';
      writeFileSync(file, JSON.stringify(record));
    },
    expect: /refused runs\/[0-9a-f]{64}\.json from .*: out "out\/gen" is not \{kind: file\|dir, hash: sha256\}/,
  },
  {
    name: 'a record for another key',
    tamper: (root, key) => {
      const file = path.join(root, 'runs', `${key}.json`);
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), key: 'f'.repeat(64) }));
    },
    expect: /refused runs\/[0-9a-f]{64}\.json from .*: the record is for key "f{64}"/,
  },
  {
    name: 'a record whose objects are missing',
    tamper: (root) => rmSync(path.join(root, 'objects', f1.slice(0, 2), f1.slice(2))),
    expect: /1 run records are not \(completely\) on the remote/,
  },
  {
    name: 'an object whose bytes do not match its name',
    tamper: (root) => {
      const file = path.join(root, 'objects', f1.slice(0, 2), f1.slice(2));
      chmodSync(file, 0o644);
      writeFileSync(file, 'evil\n');
    },
    expect: new RegExp(`1 downloads did not match their hash and were discarded: ${f1}`),
  },
];

/**
 * `root(name)`: a folder holding the remote's files (for S3, a local copy that `publish` uploads
 * after tampering, and that `fetch` fills from the bucket after the honest push).
 */
interface AttackTarget {
  root: (name: string) => string;
  url: (name: string) => string;
  env?: Record<string, string>;
  fetch?: (name: string) => Promise<void>;
  publish?: (name: string) => Promise<void>;
}

function attackSuite(remoteName: string, setUp: () => AttackTarget | Promise<AttackTarget>): void {
  describe(`untrusted ${remoteName} remote`, () => {
    let project: { dir: string; genKey: string };
    let honest: string;
    let remote: AttackTarget;

    before(async () => {
      remote = await setUp();
      project = honestProject();
      honest = remote.root('honest');
      const pushed = cli(project.dir, ['cache', 'push'], { ...remote.env, PIPELINE_REMOTE: remote.url('honest') });
      assert.equal(pushed.code, 0, pushed.stderr);
      await remote.fetch?.('honest');
    });

    for (const attack of attacks) {
      it(`refuses ${attack.name}, writes nothing outside and runs the stage instead`, async () => {
        const name = attack.name.replace(/\W+/g, '-');
        const root = remote.root(name);
        cpSync(honest, root, { recursive: true });
        const escape = path.join(tempDir('pipeline-escape-'), 'abs');
        attack.tamper(root, project.genKey, escape);
        await remote.publish?.(name);
        const clone = colleagueClone(project.dir);
        const r = cli(clone, ['run', '--pull'], { ...remote.env, PIPELINE_REMOTE: remote.url(name), ...attack.env });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, attack.expect);
        assert.ok(!existsSync(escape), 'nothing written at the absolute path');
        assert.ok(!existsSync(path.join(clone, '..', '..', 'escaped')) && !existsSync(path.join(clone, '..', 'escaped')), 'nothing written above the project');
        assert.deepEqual(executions(clone), ['gen'], 'the refused stage ran instead; the sound one (sum) restored');
        assert.equal(read(clone, 'out/sum.txt'), 'v1\nv2\nv3\n');
      });
    }

    it('pulls the honest remote and restores without running', () => {
      const clone = colleagueClone(project.dir);
      const r = cli(clone, ['run', '--pull', '--frozen'], { ...remote.env, PIPELINE_REMOTE: remote.url('honest') });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(executions(clone), []);
      assert.equal(read(clone, 'out/sum.txt'), 'v1\nv2\nv3\n');
    });
  });
}

attackSuite('directory', () => {
  const base = tempDir('pipeline-remotes-');
  return { root: (name) => path.join(base, name), url: (name) => path.join(base, name) };
});

const webdavScript = fileURLToPath(new URL('../../test/support/webdav-local.sh', import.meta.url));
const nginxAvailable = spawnSync('sh', ['-c', 'command -v nginx || [ "$(id -u)" = 0 ]']).status === 0;
const requireServices = process.env.PIPELINE_REQUIRE_SERVICES === '1';

describe('against real nginx WebDAV', { skip: !nginxAvailable && !requireServices ? 'nginx not installed (CI installs it)' : false }, () => {
  const port = String(20000 + ((process.pid + 7919) % 20000));
  const served = tempDir('pipeline-webdav-untrusted-');
  const state = tempDir('pipeline-webdav-state-');
  const webdav = (...args: string[]) => spawnSync('bash', [webdavScript, ...args], { encoding: 'utf8', env: { ...process.env, WEBDAV_LOCAL_STATE: state } });
  after(() => webdav('stop', port));
  attackSuite('WebDAV', () => {
    const started = webdav('start', port, served);
    assert.equal(started.status, 0, started.stderr);
    return { root: (name) => path.join(served, name), url: (name) => `http://127.0.0.1:${port}/${name}` };
  });
});

describe('against a real S3 server (Ceph radosgw)', { skip: s3Skip }, () => {
  let s3: S3Server | undefined;
  after(() => s3?.stop());
  attackSuite('S3', () => {
    const server = (s3 = startS3());
    const base = tempDir('pipeline-s3-mirror-');
    return {
      root: (name) => path.join(base, name),
      url: (name) => `s3://${server.bucket}/${name}`,
      env: server.env,
      fetch: (name) => download(server, name, path.join(base, name)),
      publish: (name) => upload(server, path.join(base, name), name),
    };
  });
});

describe('untrusted local cache and project symlinks', () => {
  it('a crafted record in a shared cache dir is refused and the stage runs', () => {
    const { dir, genKey } = honestProject();
    const shared = tempDir('pipeline-shared-cache-');
    cpSync(path.join(dir, 'cache'), shared, { recursive: true });
    craftManifest(shared, genKey, [['../../../escaped-local', f1, 0]]);
    const clone = colleagueClone(dir);
    const r = cli(clone, ['run', '--json'], { PIPELINE_CACHE_DIR: shared });
    assert.equal(r.code, 0, r.stderr);
    const started = jsonEvents(r.stdout).find((e) => e.event === 'started' && e.stage === 'gen');
    assert.equal(started?.action, 'run');
    assert.match(String(started?.reasons), /refused manifest [0-9a-f]{64} from .*: the path "\.\.\/\.\.\/\.\.\/escaped-local" leaves its directory \(\.\.\); running instead/);
    assert.ok(!existsSync(path.join(clone, '..', '..', 'escaped-local')));
  });

  it('never restores through a symlinked out directory that leaves the project', () => {
    const { dir } = honestProject();
    const clone = colleagueClone(dir);
    const elsewhere = tempDir('pipeline-elsewhere-');
    symlinkSync(elsewhere, path.join(clone, 'out'));
    const r = cli(clone, ['run'], { PIPELINE_CACHE_DIR: path.join(dir, 'cache') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:\d+:\d+: out "out\/gen" of gen resolves through a symlink to outside the project/);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing restored (or run) into the linked directory');
  });
});
