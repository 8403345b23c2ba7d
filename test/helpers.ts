import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../bin/pipeline.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throw-away project directory with the given files (paths relative to it). */
export function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipeline-test-'));
  writeFiles(dir, files);
  return dir;
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
