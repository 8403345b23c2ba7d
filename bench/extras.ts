import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../bin/pipeline.js', import.meta.url));
const webdav = fileURLToPath(new URL('../../test/support/webdav-local.sh', import.meta.url));

export interface ExtraRow {
  what: string;
  tool: string;
  seconds: number;
  note?: string;
}

function timed(command: string, args: string[], cwd: string, env: Record<string, string> = {}): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - start) / 1000;
}

/** Push and pull of `count` x `sizeMb` MB to a local nginx WebDAV, beside curl moving the same files. */
export function remoteThroughput(root: string, count: number, sizeMb: number): ExtraRow[] {
  if (spawnSync('sh', ['-c', 'command -v nginx && command -v curl']).status !== 0) return [];
  const port = '28731';
  const served = path.join(root, 'served');
  const project = path.join(root, 'remote-project');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(project, 'src'), { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(path.join(project, 'src', `blob${i}`), randomBytes(sizeMb * 1024 * 1024));
  writeFileSync(path.join(project, 'pipeline.yaml'), 'stages:\n  copy:\n    cmd: cp -r src out\n    deps: [src]\n    outs: [out]\n');
  timed(process.execPath, [cli, 'run'], project);
  const start = spawnSync('bash', [webdav, 'start', port, served], { encoding: 'utf8' });
  if (start.status !== 0) throw new Error(start.stderr);
  const url = `http://127.0.0.1:${port}`;
  const mb = count * sizeMb;
  try {
    const rows: ExtraRow[] = [];
    const env = { PIPELINE_REMOTE: `${url}/cache` };
    const push = timed(process.execPath, [cli, 'cache', 'push'], project, env);
    rows.push({ what: `upload ${mb} MB (${count} files)`, tool: 'pipeline cache push', seconds: push, note: `${(mb / push).toFixed(0)} MB/s` });
    const files = readdirSync(path.join(project, 'src')).map((f) => path.join(project, 'src', f));
    const curlPut = timed('sh', ['-c', `printf '%s\\n' ${files.join(' ')} | xargs -P 8 -I{} curl -sf -T {} ${url}/curl/`], project);
    rows.push({ what: `upload ${mb} MB (${count} files)`, tool: 'curl -T, 8 parallel', seconds: curlPut, note: `${(mb / curlPut).toFixed(0)} MB/s` });
    rmSync(path.join(project, 'cache'), { recursive: true, force: true });
    const pull = timed(process.execPath, [cli, 'cache', 'pull'], project, env);
    rows.push({ what: `download ${mb} MB (${count} files)`, tool: 'pipeline cache pull (verified)', seconds: pull, note: `${(mb / pull).toFixed(0)} MB/s` });
    const dl = path.join(root, 'dl');
    mkdirSync(dl, { recursive: true });
    const names = files.map((f) => path.basename(f));
    const curlGet = timed('sh', ['-c', `printf '%s\\n' ${names.join(' ')} | xargs -P 8 -I{} curl -sf -o ${dl}/{} ${url}/curl/{}`], project);
    rows.push({ what: `download ${mb} MB (${count} files)`, tool: 'curl, 8 parallel', seconds: curlGet, note: `${(mb / curlGet).toFixed(0)} MB/s` });
    return rows;
  } finally {
    spawnSync('bash', [webdav, 'stop', port]);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Median time from writing a dep to the watch reporting that the affected stage started. */
export async function watchLatency(root: string, samples: number): Promise<ExtraRow[]> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'in.txt'), '0\n');
  writeFileSync(path.join(root, 'pipeline.yaml'), 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n');
  const child = spawn(process.execPath, [cli, 'watch', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const events: { event: string; at: number }[] = [];
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const l of lines) if (l) events.push(JSON.parse(l) as { event: string; at: number });
  });
  const waitFor = async (n: number, event: string) => {
    while (events.filter((e) => e.event === event).length < n) await new Promise((r) => setTimeout(r, 5));
    return events.filter((e) => e.event === event)[n - 1];
  };
  const latencies: number[] = [];
  await waitFor(1, 'idle');
  for (let i = 1; i <= samples; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const wrote = Date.now();
    writeFileSync(path.join(root, 'in.txt'), `${i}\n`);
    const started = await waitFor(i + 1, 'started');
    latencies.push(started.at - wrote);
    await waitFor(i + 1, 'idle');
  }
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)];
  return [{ what: `watch: save -> affected stage started (median of ${samples})`, tool: 'pipeline watch (debounce 150 ms)', seconds: median / 1000, note: `min ${latencies[0]} ms, max ${latencies[latencies.length - 1]} ms` }];
}
