import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { followLog } from './log-follow.js';
import { UserError } from '../errors.js';
import { safeName } from '../paths.js';
import { shellQuote } from '../spec/interpolate.js';
import type { Executor, ExecutorKind, Job, JobResult } from './executor.js';

/** A stage's `slurm:` block. */
export interface SlurmOptions {
  partition?: string;
  account?: string;
  qos?: string;
  extra?: string[];
}

/** States after which a job will not change again. */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED']);

type Run = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number | undefined }>;

const run: Run = async (file, args) => {
  const { execa } = await import('execa');
  const result = await execa(file, args, { reject: false });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode };
};

/**
 * Watches every job this run submitted with one `squeue` per tick (not one call per job), and
 * without sacct/slurmdbd: `squeue -t all` still lists finished jobs for MinJobAge.
 */
class JobWatcher {
  private readonly waiting = new Map<string, (state: string) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pollMs: number) {}

  wait(jobId: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.set(jobId, resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    this.timer = setTimeout(() => void this.tick(), this.pollMs);
  }

  private async tick(): Promise<void> {
    const ids = [...this.waiting.keys()];
    const result = await run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T']);
    const seen = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const [id, state] = line.trim().split('|');
      if (id && state) seen.set(id, state.replace(/\+$/, ''));
    }
    for (const id of ids) {
      const state = seen.get(id);
      // A job squeue has forgotten (older than MinJobAge) can only be over; scontrol decides how.
      if (state && TERMINAL.has(state)) this.finish(id, state);
      else if (!state && result.exitCode === 0) this.finish(id, (await jobInfo(id)).state ?? 'UNKNOWN');
    }
    this.timer = undefined;
    this.schedule();
  }

  private finish(id: string, state: string): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(state);
  }
}

async function jobInfo(jobId: string): Promise<{ state?: string; exitCode?: number; signal?: number }> {
  const result = await run('scontrol', ['show', 'job', '-o', jobId]);
  const state = /JobState=(\S+)/.exec(result.stdout)?.[1];
  const exit = /\bExitCode=(\d+):(\d+)/.exec(result.stdout);
  return { ...(state ? { state } : {}), ...(exit ? { exitCode: Number(exit[1]), signal: Number(exit[2]) } : {}) };
}

/** `2h` / `90m` / `1:30:00` / minutes as a number -> sbatch --time. */
export function slurmTime(value: string | number): string {
  if (typeof value === 'number') return String(Math.ceil(value));
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(value.trim());
  if (!match) return value;
  const minutes = Number(match[1]) * { s: 1 / 60, m: 1, h: 60, d: 1440 }[match[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return String(Math.max(1, Math.ceil(minutes)));
}

/** sbatch arguments for a job: resources first, then the stage's own `slurm:` options. */
export function sbatchArgs(job: Job, scriptFile: string): string[] {
  const args = ['--parsable', `--job-name=pipeline:${job.id}`, `--output=${job.logFile}`, `--chdir=${job.cwd}`];
  // Slurm counts whole GPUs; a fractional share locally becomes one device here.
  if (job.resources.gpu > 0) args.push(`--gres=gpu:${Math.ceil(job.resources.gpu)}`);
  if (job.resources.cpu !== undefined) args.push(`--cpus-per-task=${Math.ceil(job.resources.cpu)}`);
  if (job.resources.memory !== undefined) args.push(`--mem=${job.resources.memory}`);
  if (job.resources.time !== undefined) args.push(`--time=${slurmTime(job.resources.time)}`);
  const s = job.options as SlurmOptions;
  if (s.partition) args.push(`--partition=${s.partition}`);
  if (s.account) args.push(`--account=${s.account}`);
  if (s.qos) args.push(`--qos=${s.qos}`);
  args.push(...(s.extra ?? []), scriptFile);
  return args;
}

/**
 * Runs a stage as a Slurm batch job: the same script the local executor runs, submitted when
 * its upstream has finished (the engine decides staleness, restores and records, exactly as
 * locally). The job writes its outs on the shared filesystem and its output to the stage's log.
 */
export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly usesLocalGpus = false;
  private readonly watcher: JobWatcher;

  constructor(private readonly scriptsDir: string, pollMs = Number(process.env.PIPELINE_SLURM_POLL_MS) || 500) {
    this.watcher = new JobWatcher(pollMs);
  }

  /** The job writes its output to the stage's log on the shared filesystem: its `::progress` lines are read from there, as a local stage's are. */
  async execute(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult> {
    mkdirSync(this.scriptsDir, { recursive: true });
    mkdirSync(path.dirname(job.logFile), { recursive: true });
    const scriptFile = path.join(this.scriptsDir, `${safeName(job.id)}.sh`);
    const exports = Object.entries(job.env)
      .filter(([key]) => key !== 'CUDA_VISIBLE_DEVICES')
      .map(([key, value]) => `export ${key}=${shellQuote(value)}`);
    writeFileSync(scriptFile, ['#!/bin/sh', `cd ${shellQuote(job.cwd)}`, ...exports, 'set -e', job.script, ''].join('\n'), { mode: 0o755 });
    if (signal.aborted) return { exitCode: undefined, signal: undefined, cancelled: true };
    const submitted = await run('sbatch', sbatchArgs(job, scriptFile));
    const jobId = submitted.stdout.trim().split(';')[0];
    if (submitted.exitCode !== 0 || !/^\d+$/.test(jobId)) {
      throw new UserError(`sbatch refused ${job.id}: ${submitted.stderr.trim() || submitted.stdout.trim() || `exit code ${submitted.exitCode}`}`, undefined, 1);
    }
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      void run('scancel', [jobId]);
    };
    signal.addEventListener('abort', cancel, { once: true });
    const follow = onLine ? followLog(job.logFile, onLine) : undefined;
    try {
      const state = await this.watcher.wait(jobId);
      if (cancelled) return { exitCode: undefined, signal: undefined, cancelled: true };
      if (state === 'COMPLETED') return { exitCode: 0, signal: undefined, cancelled: false };
      const info = await jobInfo(jobId);
      const exit = info.exitCode !== undefined ? ` (exit code ${info.exitCode}${info.signal ? `, signal ${info.signal}` : ''})` : '';
      return { exitCode: info.exitCode || 1, signal: undefined, cancelled: false, detail: `Slurm job ${jobId} ${state}${exit}` };
    } finally {
      follow?.stop();
      signal.removeEventListener('abort', cancel);
    }
  }
}

export const slurm: ExecutorKind = {
  name: 'slurm',
  description: 'Slurm jobs (sbatch with --gres/--cpus-per-task/--mem/--time from resources:, polled with squeue, scancel on Ctrl-C)',
  options: {
    description: 'Slurm options for this stage (besides those derived from resources).',
    type: 'object',
    additionalProperties: false,
    properties: {
      partition: { type: 'string' },
      account: { type: 'string' },
      qos: { type: 'string' },
      extra: { type: 'array', items: { type: 'string' }, description: 'More sbatch arguments, e.g. [--constraint=a100]' },
    },
  },
  create: ({ stateDir }) => new SlurmExecutor(stateDir),
};
