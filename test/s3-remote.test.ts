import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { cli, cliAsync, cliPath, executions, makeProject, read, writeFiles } from './helpers.js';
import { listKeys, s3Skip, startS3, type S3Server } from './support/s3-server.js';
import { tempDir } from './support/temp-dirs.js';

/** The remote tests of the directory and WebDAV remotes, against a real S3 server (Ceph's radosgw). */

const bytes = (dir: string, rel: string): Buffer => readFileSync(path.join(dir, rel));

function study(): string {
  return makeProject({
    'params.yaml': 'k: 1\n',
    'pipeline.yaml': [
      'params: [params.yaml]',
      'stages:',
      '  gen:',
      '    cmd: echo gen >> runs.log && mkdir -p out/gen && for i in 1 2 3; do echo "$i ${k}" > out/gen/f$i; done && head -c 30000000 /dev/urandom > out/gen/big',
      '    params: [k]',
      '    outs: [out/gen]',
      '  sum:',
      '    cmd: echo sum >> runs.log && cat out/gen/f* > out/sum.txt',
      '    deps: [out/gen]',
      '    outs: [out/sum.txt]',
    ].join('\n'),
  });
}

/** What a colleague's clone has: the spec and the lock, no cache. */
function colleague(dir: string): string {
  const clone = path.join(tempDir('pipeline-colleague-'), 'project');
  mkdirSync(clone);
  for (const file of ['params.yaml', 'pipeline.yaml', 'pipeline.lock']) cpSync(path.join(dir, file), path.join(clone, file));
  return clone;
}

describe('S3 remote (real Ceph radosgw)', { skip: s3Skip }, () => {
  let s3: S3Server;
  let env: Record<string, string>;
  before(() => {
    s3 = startS3();
    // Multipart above 6 MB, in 5 MB parts (S3's smallest), so a 30 MB object goes up in 6 parts.
    env = { ...s3.env, PIPELINE_S3_MULTIPART_BYTES: '6000000', PIPELINE_S3_PART_BYTES: '5242880' };
  });
  after(() => s3?.stop());
  const url = (prefix: string) => `s3://${s3.bucket}/${prefix}`;

  it('push, then a fresh clone pulls and builds with --pull --frozen, byte for byte; a second push moves nothing', async () => {
    const dir = study();
    writeFiles(dir, { '.pipeline/config.yaml': `remote:\n  url: ${url('team/study')}\n` });
    const pushed = cli(dir, ['run', '--push'], env);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.doesNotMatch(pushed.stderr, /Warning/);
    const keys = await listKeys(s3, 'team/study');
    assert.equal(keys.filter((k) => k.startsWith('runs/')).length, 2);
    const big = createHash('sha256').update(bytes(dir, 'out/gen/big')).digest('hex');
    assert.ok(keys.includes(`objects/${big.slice(0, 2)}/${big.slice(2)}`), 'the multipart object is stored under its hash');
    const clone = colleague(dir);
    const r = cli(clone, ['run', '--pull', '--frozen'], { ...env, PIPELINE_REMOTE: url('team/study') });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(executions(clone), []);
    assert.match(r.stderr, /pull: 2 run records, \d+ objects/);
    for (const file of ['out/gen/big', 'out/gen/f2', 'out/sum.txt']) assert.ok(bytes(clone, file).equals(bytes(dir, file)), file);
    assert.match(cli(dir, ['cache', 'push'], env).stderr, /push: 2 run records, 0 objects .* moved, \d+ already there/);
  });

  it('a kill -9 mid-push leaves no record; the next push finishes and gc --remote discards the abandoned multipart upload', async () => {
    const dir = study();
    const remote = url('killed');
    assert.equal(cli(dir, ['run'], env).code, 0);
    const child = cliAsync(dir, ['cache', 'push'], { ...env, PIPELINE_REMOTE: remote, PIPELINE_TRANSFER_JOBS: '1' });
    const uploads = async () => (await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: 'killed/' }))).Uploads ?? [];
    const start = Date.now();
    // Stopped the moment an upload shows, so the kill lands while it is open rather than after it completed.
    for (;;) {
      while ((await uploads()).length === 0 && Date.now() - start < 20000) await new Promise((r) => setTimeout(r, 2));
      child.kill('SIGSTOP');
      // A CompleteMultipartUpload already on the wire still lands: let in-flight requests settle first.
      await new Promise((r) => setTimeout(r, 300));
      if ((await uploads()).length > 0 || Date.now() - start > 20000) break;
      child.kill('SIGCONT');
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.equal((await uploads()).length, 1, 'the killed push left its multipart upload open');
    assert.deepEqual((await listKeys(s3, 'killed')).filter((k) => k.startsWith('runs/')), [], 'no run record without its objects');

    const dry = cli(dir, ['cache', 'gc', '--remote', '--grace', '0', '--dry-run'], { ...env, PIPELINE_REMOTE: remote });
    assert.match(dry.stdout, /would remove 1 partial uploads that interrupted pushes left: objects\/[0-9a-f]{2}\/[0-9a-f]{62} \(multipart upload /);
    assert.equal((await uploads()).length, 1, '--dry-run removes nothing');
    const young = cli(dir, ['cache', 'gc', '--remote'], { ...env, PIPELINE_REMOTE: remote });
    assert.doesNotMatch(young.stdout, /partial/, 'an upload younger than --grace may be a push in progress: kept');
    const gc = cli(dir, ['cache', 'gc', '--remote', '--grace', '0'], { ...env, PIPELINE_REMOTE: remote });
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /removed 1 partial uploads/);
    assert.equal((await uploads()).length, 0);

    const resumed = cli(dir, ['cache', 'push'], { ...env, PIPELINE_REMOTE: remote });
    assert.equal(resumed.code, 0, resumed.stderr);
    const clone = colleague(dir);
    const pulled = cli(clone, ['run', '--pull', '--frozen'], { ...env, PIPELINE_REMOTE: remote });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(bytes(clone, 'out/gen/big').equals(bytes(dir, 'out/gen/big')));
  });

  it('gc --remote keeps what pipeline.lock and the newest runs need, removes the rest, and the locked build still pulls', async () => {
    const dir = study();
    const remote = url('gc');
    for (const k of [1, 2, 3]) {
      writeFiles(dir, { 'params.yaml': `k: ${k}\n` });
      assert.equal(cli(dir, ['run', '--push'], { ...env, PIPELINE_REMOTE: remote }).code, 0);
    }
    assert.equal((await listKeys(s3, 'gc')).filter((k) => k.startsWith('runs/')).length, 6);
    const gc = cli(dir, ['cache', 'gc', '--remote', '--keep-last', '1', '--grace', '0'], { ...env, PIPELINE_REMOTE: remote });
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /removed 4 run records and \d+ objects .* from s3:\/\/[\w-]+\/gc; kept 2 run records/);
    const clone = colleague(dir);
    const pulled = cli(clone, ['run', '--pull', '--frozen'], { ...env, PIPELINE_REMOTE: remote });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(read(clone, 'out/sum.txt'), '1 3\n2 3\n3 3\n');
    // The objects of k=1 (f1 = "1 1") are gone from the bucket.
    const gone = createHash('sha256').update('1 1\n').digest('hex');
    await assert.rejects(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `gc/objects/${gone.slice(0, 2)}/${gone.slice(2)}` })));
  });

  it('endpoint_url and region in .pipeline/config.yaml reach a server the environment does not name; a typo there names the valid keys', () => {
    const dir = study();
    const { AWS_ENDPOINT_URL_S3: endpoint, ...withoutEndpoint } = env;
    writeFiles(dir, { '.pipeline/config.yaml': `remote:\n  url: ${url('configured')}\n  endpoint_url: ${endpoint}\n  region: us-east-1\n` });
    const pushed = cli(dir, ['run', '--push'], { ...withoutEndpoint, AWS_ENDPOINT_URL_S3: '', AWS_ENDPOINT_URL: '' });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, /push: 2 run records, \d+ objects/);
    writeFiles(dir, { '.pipeline/config.yaml': `remote:\n  url: ${url('configured')}\n  endpoint: ${endpoint}\n` });
    const typo = cli(dir, ['cache', 'push'], env);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /\.pipeline\/config\.yaml: unknown key "endpoint" in remote; did you mean "endpoint_url"\? \(valid keys: url, token_env, endpoint_url, region, profile, path_style\)/);
  });

  it('objects are written with If-None-Match: *, which the server answers 412 for an object already there', async () => {
    const dir = study();
    assert.equal(cli(dir, ['run', '--push'], { ...env, PIPELINE_REMOTE: url('conditional') }).code, 0);
    const [object] = (await listKeys(s3, 'conditional')).filter((k) => k.startsWith('objects/'));
    // The server itself, through the raw SDK: a conditional PUT over an existing key is refused.
    const again = s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `conditional/${object}`, Body: 'tampered', IfNoneMatch: '*' }));
    await assert.rejects(again, (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 412);
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `conditional/${object}` }));
    assert.notEqual(await stored.Body!.transformToString(), 'tampered');
    // pipeline's own PUT of an object that is there (a race with another push) succeeds quietly.
    const { S3Remote } = await import('../src/remotes/s3.js');
    const remote = new S3Remote(url('conditional'), { url: url('conditional') });
    const file = path.join(dir, 'cache', object!);
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      await remote.put(object!, file);
    } finally {
      remote.close();
      process.env = saved;
    }
  });

  it("a DVC repository's default remote (.dvc/config, keys in .dvc/config.local) is where pipeline pushes when nothing else is configured", () => {
    const dir = makeProject({
      'params.yaml': 'k: 1\n',
      'dvc.yaml': 'stages:\n  gen:\n    cmd: echo ${k} > out.txt\n    outs: [out.txt]\n',
      '.dvc/config': `[core]\n    remote = storage\n['remote "storage"']\n    url = s3://${s3.bucket}/dvcstore\n    endpointurl = ${env.S3_ENDPOINT}\n`,
      '.dvc/config.local': `['remote "storage"']\n    access_key_id = ${env.AWS_ACCESS_KEY_ID}\n    secret_access_key = ${env.AWS_SECRET_ACCESS_KEY}\n`,
    });
    const home = tempDir('pipeline-home-');
    const bare: Record<string, string> = { HOME: home, AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
    const environment = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'PIPELINE_REMOTE')) as Record<string, string>;
    const r = spawnSync(process.execPath, [cliPath, 'run', '--push'], { cwd: dir, encoding: 'utf8', env: { ...environment, ...bare, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /remote: DVC's default remote "storage" \(\.dvc\/config\): s3:\/\/[\w-]+\/dvcstore/);
    assert.match(r.stderr, /push: 1 run records, 1 objects/);
  });

  it('missing credentials, a missing bucket and a denied request are one clear sentence each', () => {
    const dir = study();
    assert.equal(cli(dir, ['run'], env).code, 0);
    const home = tempDir('pipeline-home-');
    const noKeys = { ...env, HOME: home, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'), AWS_CONFIG_FILE: path.join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
    for (const variable of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE']) delete (noKeys as Record<string, string | undefined>)[variable];
    const cases: [Record<string, string>, string, RegExp][] = [
      [noKeys, url('x'), /HEAD bucket failed: no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/],
      [env, 's3://no-such-bucket-here/x', /HEAD bucket failed: the bucket "no-such-bucket-here" does not exist there/],
      [{ ...env, AWS_SECRET_ACCESS_KEY: 'wrong' }, url('x'), /HEAD bucket failed: the request was denied \(.*\): check the credentials/],
    ];
    for (const [environment, remote, message] of cases) {
      const r = cli(dir, ['cache', 'push'], { ...environment, PIPELINE_REMOTE: remote });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
    }
  });
});
