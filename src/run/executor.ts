/** What an executor runs: one stage instance's process, the same command line everywhere. */
export interface Job {
  id: string;
  /** A shell script (commands separated by newlines, run with `set -e`). */
  script: string;
  cwd: string;
  /** Added to the inherited environment. */
  env: Record<string, string>;
  logFile: string;
  resources: { gpu: number; cpu?: number; memory?: string | number; time?: string | number };
  /** Scheduler options for cluster executors. */
  slurm?: { partition?: string; account?: string; qos?: string; extra?: string[] };
}

export interface JobResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** True when the run was stopped on request (Ctrl-C, a stale restart); nothing is recorded. */
  cancelled: boolean;
  /** How the executor describes a failure, when it knows more than an exit code (a Slurm state). */
  detail?: string;
}

export interface Executor {
  readonly name: string;
  /** False when the executor places GPUs itself (Slurm's gres): the local GPU pool stays out of it. */
  readonly usesLocalGpus: boolean;
  execute(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult>;
}
