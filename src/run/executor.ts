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
}

export interface JobResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** True when the run was stopped on request (Ctrl-C, a stale restart); nothing is recorded. */
  cancelled: boolean;
}

export interface Executor {
  readonly name: string;
  execute(job: Job, signal: AbortSignal, onLine?: (line: string) => void): Promise<JobResult>;
}
