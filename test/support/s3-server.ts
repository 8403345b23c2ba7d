import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { S3Client, CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './temp-dirs.js';

const script = fileURLToPath(new URL('../../../test/support/s3-local-ceph.sh', import.meta.url));

/** radosgw is installed, or CI may install it (root and apt-get). */
export const cephAvailable = spawnSync('sh', ['-c', 'command -v radosgw && command -v ceph-mon']).status === 0;
export const requireServices = process.env.PIPELINE_REQUIRE_SERVICES === '1';
export const s3Skip = !cephAvailable && !requireServices ? 'radosgw not installed (CI installs it: test/support/s3-local-ceph.sh)' : false;

/** A running one-node Ceph with radosgw: the environment a client needs, and a raw SDK client for tampering. */
export interface S3Server {
  env: Record<string, string>;
  bucket: string;
  client: S3Client;
  stop(): void;
}

export function startS3(): S3Server {
  const dir = path.join(tempDir('pipeline-s3-'), 'state');
  const run = (verb: string) => spawnSync('bash', [script, verb], { encoding: 'utf8', env: { ...process.env, S3_DIR: dir } });
  const started = run('start');
  if (started.status !== 0) throw new Error(`s3-local-ceph.sh start failed:\n${started.stderr}`);
  const env: Record<string, string> = {};
  for (const [, name, value] of readFileSync(path.join(dir, 'env'), 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) env[name!] = value!.replace(/^'(.*)'$/, '$1');
  const client = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { env, bucket: env.S3_BUCKET!, client, stop: () => (client.destroy(), run('stop')) };
}

export async function createBucket(server: S3Server, bucket: string): Promise<void> {
  await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Keys under `prefix/` (without it). */
export async function listKeys(server: S3Server, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
    for (const item of page.Contents ?? []) keys.push(item.Key!.slice(prefix.length + 1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Copies the objects under `prefix/` into a local folder, so a test can tamper with files. */
export async function download(server: S3Server, prefix: string, dir: string): Promise<void> {
  for (const key of await listKeys(server, prefix)) {
    const response = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
    mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
    writeFileSync(path.join(dir, key), await response.Body!.transformToByteArray());
  }
}

/** Makes `prefix/` hold exactly the files of a local folder. */
export async function upload(server: S3Server, dir: string, prefix: string): Promise<void> {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((name) => statSync(path.join(dir, name)).isFile());
  for (const key of await listKeys(server, prefix)) if (!files.includes(key)) await server.client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
  for (const name of files) await server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${name.split(path.sep).join('/')}`, Body: readFileSync(path.join(dir, name)) }));
}
