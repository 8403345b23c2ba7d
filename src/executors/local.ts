import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Executor, ExecutorKind, Job, JobResult } from './executor.js';

/** How long a stage gets to exit after SIGTERM before its process group is killed. */
const KILL_GRACE_MS = 5000;

/**
 * Runs a stage as its own process group (so Ctrl-C reaches every child it started, not just
 * the shell), with stdout and stderr in its log file.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly usesLocalGpus = true;

  async execute(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult> {
    mkdirSync(path.dirname(job.logFile), { recursive: true });
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
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!log.destroyed) log.write(chunk);
      if (!onLine) return;
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr?.on('data', (chunk: Buffer) => !log.destroyed && log.write(chunk));

    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      cancelled = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    let result;
    try {
      result = await child;
    } finally {
      signal.removeEventListener('abort', stop);
      if (killTimer) clearTimeout(killTimer);
      if (cancelled) killGroup(child.pid, 'SIGKILL');
      // 'close' comes after 'error' too, so a write that failed on the way out is seen below.
      await new Promise<void>((resolve) => {
        if (log.closed) return resolve();
        log.once('close', () => resolve());
        if (!log.destroyed) log.end();
      });
    }
    if (logError) throw logError;
    return { exitCode: result.exitCode, signal: result.signal ?? undefined, cancelled };
  }
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
