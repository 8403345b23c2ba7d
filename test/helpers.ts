import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/temp-dirs.js';

export { tempDir };

export const cliPath = fileURLToPath(new URL('../../bin/pipeline.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throw-away project directory with the given files (paths relative to it). */
export function makeProject(files: Record<string, string>): string {
  const dir = tempDir('pipeline-test-');
  writeFiles(dir, files);
  return dir;
}

/** The project's node_modules, as a researcher's project has it (the backbones that ship in npm packages are found there). */
export function linkNodeModules(dir: string): void {
  symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), path.join(dir, 'node_modules'));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
}

export function read(dir: string, rel: string): string {
  return readFileSync(path.join(dir, rel), 'utf8');
}

/** Runs the real CLI in `dir`, as a user would. */
export function cli(dir: string, args: string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function cliAsync(dir: string, args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [cliPath, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Each stage appends its id to runs.log: the count of executions, read from their side effects. */
export function executions(dir: string): string[] {
  const file = path.join(dir, 'runs.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export function jsonEvents(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export type WatchEvent = { event: string; stage?: string; at: number; message?: string; paths?: string[] };

/** The real CLI in watch mode, with its --json events collected as they arrive. */
export function startWatch(dir: string, extraArgs: string[] = []) {
  const child = cliAsync(dir, ['watch', '--json', '--jobs', '4', '--debounce', '100', ...extraArgs]) as unknown as ChildProcessWithoutNullStreams;
  const events: WatchEvent[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const until = async (predicate: (e: WatchEvent[]) => boolean, what: string, timeoutMs = 20000) => {
    const start = Date.now();
    while (!predicate(events)) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const count = (event: string, stage?: string) => events.filter((e) => e.event === event && (stage === undefined || e.stage === stage)).length;
  const stop = async () => {
    child.kill('SIGINT');
    await new Promise((resolve) => child.on('exit', resolve));
  };
  return { events, until, count, stop };
}

/** Runs git in `dir` as a test user; fails the test on a non-zero exit. */
export function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.email=test@example.org', '-c', 'user.name=test', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}
