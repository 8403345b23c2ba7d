import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/**
 * What `pipeline run` and a resident `pipeline daemon` say to each other: one JSON object per
 * line over a Unix socket. Imported by the command line's first lines, so Node built-ins only,
 * and CommonJS (as is client.cts): a command line that loads no ES module starts 0.01-0.02 s
 * sooner, a tenth of a no-op through the daemon.
 */
export type ClientMessage =
  | { type: 'run'; argv: string[]; cwd: string; env: Record<string, string>; build: string; tty: { stdout: boolean; stderr: boolean; columns?: number } }
  /** Ctrl-C (or a SIGTERM) at the client: the run cancels; a second one stops it at once. */
  | { type: 'signal' }
  | { type: 'status' }
  | { type: 'stop' };

export type DaemonMessage =
  | { type: 'stdout' | 'stderr'; text: string }
  | { type: 'exit'; code: number }
  /** Not served here: the client runs the command itself. */
  | { type: 'fallback'; reason: string }
  | { type: 'status'; pid: number; specDir: string; since: number; served: number; watched: number; build: string };

/**
 * The spec file a command line names (`-f FILE` before the command; undefined without one), its
 * command and the arguments after it. A `-f` without a FILE leaves no command: the full parser
 * says what is wrong.
 */
export function commandOf(args: readonly string[]): { file: string | undefined; command: string | undefined; rest: string[] } {
  let file: string | undefined;
  let i = 0;
  for (; args[i] === '-f' || args[i] === '--file' || args[i]?.startsWith('--file='); i++) {
    file = args[i]!.startsWith('--file=') ? args[i]!.slice('--file='.length) : args[++i];
    if (!file) return { file, command: undefined, rest: [] };
  }
  return { file, command: args[i], rest: args.slice(i + 1) };
}

/**
 * Where the daemon of the project whose spec sits in `specDir` listens (a socket path is at
 * most ~107 bytes, so not in the project). Named by an FNV-1a hash of the folder: node:crypto
 * costs this command line's every start more than the whole daemon round trip; a collision
 * only sends a run to a daemon that declines it.
 */
export function socketPath(specDir: string): string {
  const text = path.resolve(specDir);
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ text.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  const id = a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  const base = process.env.XDG_RUNTIME_DIR || tmpdir();
  // process.getuid, not os.userInfo: that one reads the password database.
  return path.join(base, `pipeline-${process.getuid?.() ?? 0}-${id}.sock`);
}

/** Which build of pipeline this is: a daemon serves only clients of its own build (a rebuild or upgrade changes it). */
export function buildId(): string {
  const main = path.join(__dirname, '../cli/main.js');
  const stats = statSync(main, { throwIfNoEntry: false });
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : 'unknown';
}

/** Variables a shell sets per command or per directory: they differ between two runs of the same project and shape nothing. */
const VOLATILE = new Set(['_', 'OLDPWD', 'PWD', 'SHLVL', 'COLUMNS', 'LINES', 'PIPELINE_DAEMON_DEBUG']);

/** The environment a run depends on (its stages inherit it). */
export function runEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && !VOLATILE.has(name)) kept[name] = value;
  return kept;
}

/** The first names that differ between two environments, for a message. */
export function environmentDifference(a: Record<string, string>, b: Record<string, string>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((name) => a[name] !== b[name]).sort().slice(0, 5);
}

/** Splits a byte stream into the JSON messages it carries. */
export function messageReader<T>(onMessage: (message: T) => void): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return (chunk) => {
    pending += decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line) onMessage(JSON.parse(line) as T);
    }
  };
}
