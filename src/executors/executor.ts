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
  /** The stage's own options for this executor (its `slurm:` block for Slurm), checked against the kind's schema at load. */
  options: Record<string, unknown>;
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

/** Where an executor may keep its own files (job scripts). */
export interface ExecutorContext {
  /** A directory of its own under the cache's tmp/. */
  stateDir: string;
}

/** One kind of executor, as the registry (src/executors/registry.ts) lists it. */
export interface ExecutorKind {
  name: string;
  description: string;
  /**
   * Schema of the per-stage options block named after the executor (`slurm: { partition }`);
   * undefined when it takes none. The spec schema, load-time checks and the CLI read it.
   */
  options?: Record<string, unknown>;
  create(context: ExecutorContext): Executor;
}
