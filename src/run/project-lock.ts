import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { ProjectLayout } from '../store/layout.js';

/**
 * One `pipeline run` per project at a time: the lock file and outs belong to one writer. A
 * second run waits for the first (saying so) instead of racing it; a lock left by a process
 * that died is taken over.
 */
export class ProjectLock {
  private held = false;
  readonly file: string;

  constructor(projectDir: string) {
    this.file = new ProjectLayout(projectDir).state('run.lock');
  }

  async acquire(options: { wait: boolean; onWait: (holder: string) => void; pollMs?: number }): Promise<void> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    let told = false;
    for (;;) {
      try {
        writeFileSync(this.file, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }), { flag: 'wx' });
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = this.holder();
      if (holder === undefined || !processAlive(holder.pid)) {
        rmSync(this.file, { force: true });
        continue;
      }
      if (!options.wait) {
        throw new UserError(`another pipeline run (pid ${holder.pid}, since ${holder.startedAt}) is running in this project; wait for it, or drop --no-wait to queue behind it`, undefined, 3);
      }
      if (!told) {
        options.onWait(`pid ${holder.pid}`);
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.file, { force: true });
  }

  private holder(): { pid: number; startedAt: string } | undefined {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as { pid: number; startedAt: string };
    } catch {
      return undefined;
    }
  }
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
