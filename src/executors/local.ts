import { closeSync, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { freeBytes } from '../disk-full.js';
import type { Executor, ExecutorKind, Job, JobResult } from './executor.js';
import { followLog, lineReader } from './log-follow.js';
import { ShellLauncher } from './shell-launcher.js';

/** How long a stage gets to exit after SIGTERM before its process group is killed. */
const KILL_GRACE_MS = 5000;

/**
 * Runs a stage as its own process group (so Ctrl-C reaches every child it started, not just
 * the shell), with stdout and stderr in its log file.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly usesLocalGpus = true;
  private readonly launcher = ShellLauncher.available() ? ShellLauncher.shared() : undefined;

  async execute(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult> {
    mkdirSync(path.dirname(job.logFile), { recursive: true });
    return this.launcher ? this.launched(this.launcher, job, signal, onLine) : this.spawned(job, signal, onLine);
  }

  /** Through the shell launcher: the stage writes its own log; progress lines are read from it. */
  private async launched(launcher: ShellLauncher, job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult> {
    // Created here, so that a log that cannot be written fails as it does on the other path.
    closeSync(openSync(job.logFile, 'w'));
    const { pid, exit } = launcher.launch(job);
    const follow = onLine ? followLog(job.logFile, onLine) : undefined;
    const stopping = cancellation(signal, pid);
    let code: number;
    try {
      code = await exit;
    } finally {
      await stopping.settle();
      follow?.stop();
    }
    const { cancelled } = stopping;
    // The stage wrote its log itself, so a full disk shows only as its failure: say what it was.
    if (code !== 0 && !cancelled && freeBytes(path.dirname(job.logFile)) === 0) {
      throw Object.assign(new Error(`no space left for the log ${job.logFile}`), { code: 'ENOSPC' });
    }
    const signalName = cancelled && code > 128 ? signalNames.get(code - 128) : undefined;
    return { exitCode: signalName ? undefined : code, signal: signalName, cancelled };
  }

  /** Through Node's spawn (no setsid here, or PIPELINE_LAUNCHER=node): output piped to the log. */
  private async spawned(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult> {
    const log = createWriteStream(job.logFile);
    // A log that cannot be written (a full disk) must not crash the run: the stage finishes,
    // then the failure is reported as what it is.
    let logError: Error | undefined;
    log.on('error', (error) => (logError ??= error));
    const { execa } = await import('execa');
    const child = execa('/bin/sh', ['-c', `set -e\n${job.script}`], {
      cwd: job.cwd,
      env: job.env,
      extendEnv: true,
      detached: true,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
    });
    const lines = onLine ? lineReader(onLine) : undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!log.destroyed) log.write(chunk);
      lines?.(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => !log.destroyed && log.write(chunk));

    const stopping = cancellation(signal, Promise.resolve(child.pid));
    let result;
    try {
      result = await child;
    } finally {
      await stopping.settle();
      // 'close' comes after 'error' too, so a write that failed on the way out is seen below.
      await new Promise<void>((resolve) => {
        if (log.closed) return resolve();
        log.once('close', () => resolve());
        if (!log.destroyed) log.end();
      });
    }
    if (logError) throw logError;
    return { exitCode: result.exitCode, signal: result.signal ?? undefined, cancelled: stopping.cancelled };
  }
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * On abort: SIGTERM to the stage's process group, SIGKILL after KILL_GRACE_MS. `settle`, once
 * the stage has exited, stops listening and kills whatever a cancelled stage left behind.
 */
function cancellation(signal: AbortSignal, pid: Promise<number | undefined>): { readonly cancelled: boolean; settle: () => Promise<void> } {
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    cancelled = true;
    void pid.then((p) => {
      killGroup(p, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(p, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    });
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return {
    get cancelled() {
      return cancelled;
    },
    settle: async () => {
      signal.removeEventListener('abort', stop);
      if (killTimer) clearTimeout(killTimer);
      if (cancelled) killGroup(await pid, 'SIGKILL');
    },
  };
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

export const local: ExecutorKind = {
  name: 'local',
  description: 'this machine, each stage its own process group (the default)',
  create: () => new LocalExecutor(),
};
