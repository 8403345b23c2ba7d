import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { cli, executions, makeProject, read } from './helpers.js';
import { s3Skip, startS3, type S3Server } from './support/s3-server.js';
import { tempDir } from './support/temp-dirs.js';

/** DVC's external dependencies: deps on a web server or in a bucket, checked with a HEAD, read by the stage itself. */

function urlStudy(url: string): string {
  return makeProject({
    'pipeline.yaml': ['stages:', '  fetch:', `    cmd: echo fetch >> runs.log && echo "${url}" > out.txt`, `    deps: [${url}]`, '    outs: [out.txt]'].join('\n'),
  });
}

const webdavScript = fileURLToPath(new URL('../../test/support/webdav-local.sh', import.meta.url));
const nginxAvailable = spawnSync('sh', ['-c', 'command -v nginx || [ "$(id -u)" = 0 ]']).status === 0;
const requireServices = process.env.PIPELINE_REQUIRE_SERVICES === '1';

describe('http(s) deps (real nginx)', { skip: !nginxAvailable && !requireServices ? 'nginx not installed (CI installs it)' : false }, () => {
  const port = String(20000 + ((process.pid + 3571) % 20000));
  const served = tempDir('pipeline-url-served-');
  const state = tempDir('pipeline-webdav-state-');
  const webdav = (...args: string[]) => spawnSync('bash', [webdavScript, ...args], { encoding: 'utf8', env: { ...process.env, WEBDAV_LOCAL_STATE: state } });
  before(() => {
    mkdirSync(path.join(served, 'data'), { recursive: true });
    writeFileSync(path.join(served, 'data/labels.csv'), 'id,label\n1,a\n');
    const r = webdav('start', port, served);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => webdav('stop', port));

  it('is recorded by its ETag; unchanged it stays up to date, changed on the server the stage reruns', () => {
    const url = `http://127.0.0.1:${port}/data/labels.csv`;
    const dir = urlStudy(url);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(read(dir, 'pipeline.lock'), new RegExp(`${url.replace(/[.:/]/g, '\\$&')}: http etag "[0-9a-f]+-[0-9a-f]+"\n`));
    assert.match(cli(dir, ['status']).stdout, /everything is up to date/);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['fetch']);
    writeFileSync(path.join(served, 'data/labels.csv'), 'id,label\n1,a\n2,b\n');
    assert.match(cli(dir, ['status']).stdout, new RegExp(`fetch: dep ${url.replace(/[.:/]/g, '\\$&')} changed`));
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['fetch', 'fetch']);
  });

  it('a URL the server does not have is an error naming the spec line', () => {
    const dir = urlStudy(`http://127.0.0.1:${port}/data/missing.csv`);
    const r = cli(dir, ['run']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /pipeline\.yaml:4:\d+: dep http:\/\/127\.0\.0\.1:\d+\/data\/missing\.csv: HEAD answered 404 Not Found/);
    assert.deepEqual(executions(dir), []);
  });
});

describe('http deps on servers that give no validator', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    // A server that answers with the body's length only: nothing says when it changed.
    server = http.createServer((req, res) => {
      res.writeHead(200, req.url === '/dated' ? { 'content-length': '3', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' } : { 'content-length': '3' });
      res.end(req.method === 'HEAD' ? undefined : 'abc');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('neither ETag nor Last-Modified is an error that says what to do instead', async () => {
    const dir = urlStudy(`${base}/plain`);
    const r = await cliInBackground(dir, ['run']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /dep http:\/\/127\.0\.0\.1:\d+\/plain: the server sends neither an ETag nor Last-Modified with Content-Length, so pipeline cannot tell when it changes; download it in a stage of its own/);
  });

  it('Last-Modified with Content-Length is enough', async () => {
    const dir = urlStudy(`${base}/dated`);
    assert.equal((await cliInBackground(dir, ['run'])).code, 0);
    assert.match(read(dir, 'pipeline.lock'), /\/dated: http last-modified Tue, 01 Dec 2026 10:00:00 GMT size 3\n/);
  });
});

/** The CLI as a child process without blocking this one, which serves the requests. */
function cliInBackground(dir: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return import('./helpers.js').then(
    ({ cliAsync }) =>
      new Promise((resolve) => {
        const child = cliAsync(dir, args);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
      }),
  );
}

describe('s3:// deps (real Ceph radosgw)', { skip: s3Skip }, () => {
  let s3: S3Server;
  before(() => (s3 = startS3()));
  after(() => s3?.stop());

  it('is recorded by its ETag; an overwritten object reruns the stage; a missing key is an error', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/labels.csv', Body: 'id,label\n1,a\n' }));
    const url = `s3://${s3.bucket}/raw/labels.csv`;
    const dir = urlStudy(url);
    assert.equal(cli(dir, ['run'], s3.env).code, 0);
    assert.match(read(dir, 'pipeline.lock'), /: s3 etag [0-9a-f]{32}\n/);
    assert.match(cli(dir, ['status'], s3.env).stdout, /everything is up to date/);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/labels.csv', Body: 'id,label\n1,b\n' }));
    assert.equal(cli(dir, ['run'], s3.env).code, 0);
    assert.deepEqual(executions(dir), ['fetch', 'fetch']);

    const missing = urlStudy(`s3://${s3.bucket}/raw/none.csv`);
    const r = cli(missing, ['run'], s3.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /pipeline\.yaml:4:\d+: dep s3:\/\/[\w-]+\/raw\/none\.csv does not exist \(HEAD answered 404 on http:\/\/127\.0\.0\.1:\d+\)/);
  });
});

describe('URL outs', () => {
  it('are refused, naming DVC 3 external outputs and what to do instead', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  up:\n    cmd: echo\n    outs: [s3://bucket/model.pt]\n' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:4:12: "s3:\/\/bucket\/model\.pt" is a URL: outs stay inside the project \(DVC 3 removed "external outputs" too\)/);
  });
});
