import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Push/pull of 200 MB in 8 files to a real S3 server (Ceph radosgw), beside the AWS CLI and curl on the same server. */

export interface TransferRow {
  direction: 'push' | 'pull';
  tool: string;
  seconds: number;
}

const FILES = 8;
const FILE_BYTES = 25 * 1024 * 1024;
const script = fileURLToPath(new URL('../../test/support/s3-local-ceph.sh', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(command: string, args: string[], cwd: string, env: Record<string, string>): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout).slice(-1500)}`);
  return (performance.now() - start) / 1000;
}

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

export function s3Transfer(root: string, cli: string): TransferRow[] {
  const dir = path.join(root, 's3-transfer');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const state = path.join(dir, 'ceph');
  const started = spawnSync('bash', [script, 'start'], { encoding: 'utf8', env: { ...process.env, S3_DIR: state } });
  if (started.status !== 0) throw new Error(`s3-local-ceph.sh start failed: ${started.stderr.slice(-1500)}`);
  try {
    const env: Record<string, string> = {};
    for (const [, name, value] of readFileSync(path.join(state, 'env'), 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) env[name!] = value!;
    const project = path.join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      path.join(project, 'pipeline.yaml'),
      ['stages:', '  blobs:', `    cmd: mkdir -p out && for i in $(seq 1 ${FILES}); do head -c ${FILE_BYTES} /dev/urandom > out/b$i; done`, '    outs: [out]', ''].join('\n'),
    );
    timed(process.execPath, [cli, 'run'], project, {});
    const objects = path.join(project, 'cache', 'objects');
    const files = (readdirSync(objects, { recursive: true }) as string[]).map((f) => path.join(objects, f)).filter((f) => spawnSync('test', ['-f', f]).status === 0);
    const rows: TransferRow[] = [];
    const bucket = env.S3_BUCKET!;
    const endpoint = env.S3_ENDPOINT!;
    // curl 7.88 signs without hashing the body; S3 needs that said in x-amz-content-sha256.
    const curlAuth = ['--aws-sigv4', `aws:amz:${env.AWS_REGION}:s3`, '--user', `${env.AWS_ACCESS_KEY_ID}:${env.AWS_SECRET_ACCESS_KEY}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD'];
    const curlParallel = (mode: 'up' | 'down', prefix: string, target: string) => {
      // One curl per file, 8 at once: the same parallelism as pipeline's transfers.
      const list = path.join(dir, `${prefix.replace(/\W/g, "-")}-${mode}.list`);
      writeFileSync(list, files.map((f) => path.relative(objects, f)).join('\n') + '\n');
      const each =
        mode === 'up'
          ? `curl -sf ${curlAuth.map((a) => `'${a}'`).join(' ')} -T "${objects}/$0" "${endpoint}/${bucket}/${prefix}/$0"`
          : `mkdir -p "$(dirname "${target}/$0")" && curl -sf ${curlAuth.map((a) => `'${a}'`).join(' ')} -o "${target}/$0" "${endpoint}/${bucket}/${prefix}/$0"`;
      return timed('sh', ['-c', `xargs -P 8 -I{} sh -c '${each.replace(/'/g, `'\\''`)}' {} < ${list}`], dir, {});
    };
    // radosgw creates its data pool on the first write: pay that before anything is timed.
    timed(process.execPath, [cli, 'cache', 'push'], project, { ...env, PIPELINE_REMOTE: `s3://${bucket}/warm-up` });
    for (let rep = 0; rep < 3; rep++) {
      const prefix = `rep${rep}`;
      const tools: (() => void)[] = [
        () => {
          rows.push({ direction: 'push', tool: 'pipeline cache push', seconds: timed(process.execPath, [cli, 'cache', 'push'], project, { ...env, PIPELINE_REMOTE: `s3://${bucket}/${prefix}/pipeline` }) });
          const fresh = path.join(dir, `pull-${rep}`);
          rows.push({ direction: 'pull', tool: 'pipeline cache pull', seconds: timed(process.execPath, [cli, 'cache', 'pull'], project, { ...env, PIPELINE_REMOTE: `s3://${bucket}/${prefix}/pipeline`, PIPELINE_CACHE_DIR: fresh }) });
          rmSync(fresh, { recursive: true, force: true });
        },
        () => {
          rows.push({ direction: 'push', tool: 'curl --aws-sigv4 (8 parallel)', seconds: curlParallel('up', `${prefix}/curl`, '') });
          const down = path.join(dir, `curl-${rep}`);
          rows.push({ direction: 'pull', tool: 'curl --aws-sigv4 (8 parallel)', seconds: curlParallel('down', `${prefix}/curl`, down) });
          rmSync(down, { recursive: true, force: true });
        },
      ];
      if (has('aws')) {
        tools.push(() => {
          const aws = ['--endpoint-url', endpoint, 's3', 'cp', '--recursive', '--only-show-errors'];
          rows.push({ direction: 'push', tool: 'aws s3 cp --recursive', seconds: timed('aws', [...aws, objects, `s3://${bucket}/${prefix}/awscli`], dir, env) });
          const down = path.join(dir, `aws-${rep}`);
          rows.push({ direction: 'pull', tool: 'aws s3 cp --recursive', seconds: timed('aws', [...aws, `s3://${bucket}/${prefix}/awscli`, down], dir, env) });
          rmSync(down, { recursive: true, force: true });
        });
      }
      // A different tool goes first in each round, so none always meets the emptiest server.
      for (let i = 0; i < tools.length; i++) tools[(i + rep) % tools.length]!();
    }
    const medians = new Map<string, TransferRow>();
    for (const row of rows) {
      const key = `${row.direction} ${row.tool}`;
      if (!medians.has(key)) medians.set(key, { ...row, seconds: median(rows.filter((r) => `${r.direction} ${r.tool}` === key).map((r) => r.seconds)) });
    }
    return [...medians.values()];
  } finally {
    spawnSync('bash', [script, 'stop'], { env: { ...process.env, S3_DIR: state } });
    rmSync(dir, { recursive: true, force: true });
  }
}

export function transferTable(rows: readonly TransferRow[]): string {
  const mb = (FILES * FILE_BYTES) / 1e6;
  const lines = [
    '',
    `| S3 transfer, ${mb.toFixed(0)} MB in ${FILES} files (Ceph radosgw on this machine, median of 3) | seconds | MB/s | pipeline's throughput vs this |`,
    '|---|---:|---:|---:|',
  ];
  for (const direction of ['push', 'pull'] as const) {
    const ours = rows.find((r) => r.direction === direction && r.tool.startsWith('pipeline'))!;
    for (const r of rows.filter((x) => x.direction === direction)) {
      const ratio = r === ours ? '' : `${(r.seconds / ours.seconds).toFixed(2)}x${r.seconds / ours.seconds >= 0.8 ? '' : ' (goal >= 0.8x: NOT met)'}`;
      lines.push(`| ${direction}: ${r.tool} | ${r.seconds.toFixed(2)} | ${(mb / r.seconds).toFixed(0)} | ${ratio} |`);
    }
  }
  return lines.join('\n') + '\n';
}
