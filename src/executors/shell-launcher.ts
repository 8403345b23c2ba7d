import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { shellQuote } from '../spec/interpolate.js';

/** What the launcher starts: a script under `/bin/sh -c` with `set -e`, output to a log file. */
export interface Launch {
  script: string;
  cwd: string;
  /** Added to the launcher's environment (which is pipeline's, as of the first launch). */
  env: Record<string, string>;
  logFile: string;
}

export interface Launched {
  /** The stage's process id, also its process group's and session's; undefined if it never started. */
  pid: Promise<number | undefined>;
  /** Its shell's exit status (128 + n when it died of signal n). */
  exit: Promise<number>;
}

const SETSID = ['/usr/bin/setsid', '/bin/setsid'].find((file) => existsSync(file));
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Waiting {
  pid: (pid: number | undefined) => void;
  exit: (code: number) => void;
  fail: (error: Error) => void;
}

/**
 * Starts stage processes from one long-lived `/bin/sh`. Node's spawn forks the engine's whole
 * process in its one thread, 6-12 ms a stage here; a sweep of small stages spent more time
 * there than in the stages. The shell forks a small process off our thread, `setsid` gives the
 * stage its own session (Ctrl-C and cancellation reach every process it starts), the stage
 * writes its log itself, and the shell reports each stage's pid and exit status on a pipe.
 * (`jobs` after each start: a non-interactive dash reaps finished children only when asked.)
 */
export class ShellLauncher {
  private shell?: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private partial = '';
  private static process?: ShellLauncher;

  /** The process's one launcher: a daemon that runs many runs keeps one shell, not one per run. */
  static shared(): ShellLauncher {
    return (ShellLauncher.process ??= new ShellLauncher());
  }

  /** Linux with util-linux's setsid; `PIPELINE_LAUNCHER=node` keeps Node's own spawn. */
  static available(): boolean {
    return SETSID !== undefined && process.env.PIPELINE_LAUNCHER !== 'node';
  }

  launch(job: Launch): Launched {
    const shell = this.start();
    const id = this.next++;
    let waiting!: Waiting;
    const pid = new Promise<number | undefined>((resolve) => (waiting = { pid: resolve, exit: () => undefined, fail: () => undefined }));
    const exit = new Promise<number>((resolve, reject) => {
      waiting.exit = resolve;
      waiting.fail = reject;
    });
    this.waiting.set(id, waiting);
    if (this.waiting.size === 1) (shell.stdout as Socket).ref();
    const env = Object.entries(job.env);
    // Assignments before a command export to it (the name unquoted, or it is no assignment);
    // `env` only for names a shell would not take.
    const prefix = env.every(([name]) => NAME.test(name))
      ? env.map(([name, value]) => `${name}=${shellQuote(value)}`).join(' ')
      : `env ${env.map(([name, value]) => shellQuote(`${name}=${value}`)).join(' ')}`;
    const inner = `echo "${id} p $$" >&3; exec 3>&-\nset -e\n${job.script}`;
    const q = shellQuote;
    shell.stdin.write(
      `{ cd ${q(job.cwd)} 2>/dev/null || { echo "${id} x 126"; exit; }; ` +
        `${prefix} ${SETSID} /bin/sh -c ${q(inner)} 3>&1 >${q(job.logFile)} 2>&1 </dev/null; echo "${id} x $?"; } & jobs >/dev/null\n`,
    );
    return { pid, exit };
  }

  private start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.shell) return this.shell;
    const shell = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.shell = shell;
    // Idle, the launcher must not keep pipeline running; `launch` holds it while stages run.
    shell.unref();
    (shell.stdout as Socket).unref();
    shell.stdout.setEncoding('utf8');
    shell.stdout.on('data', (chunk: string) => this.read(chunk));
    shell.stdin.on('error', () => undefined); // Its exit, below, says what happened.
    shell.on('exit', (code, signal) => {
      if (this.shell === shell) this.shell = undefined;
      const error = new Error(`the shell that starts stages (/bin/sh) exited (${signal ?? `code ${code}`})`);
      for (const waiting of this.waiting.values()) {
        waiting.pid(undefined);
        waiting.fail(error);
      }
      this.waiting.clear();
    });
    return shell;
  }

  private read(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const [id, kind, value] = line.split(' ');
      const waiting = this.waiting.get(Number(id));
      if (!waiting) continue;
      if (kind === 'p') {
        waiting.pid(Number(value));
        continue;
      }
      waiting.pid(undefined); // it exited before it could say (cd failed)
      waiting.exit(Number(value));
      this.waiting.delete(Number(id));
      if (this.waiting.size === 0) (this.shell?.stdout as Socket | undefined)?.unref();
    }
  }
}
