import { parseProgressLine } from '../protocol/stage-protocol.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import PQueue from 'p-queue';
import { CacheEntryError } from '../store/untrusted.js';
import { DiskFullError, onDiskFull, onDiskFullAsync } from '../disk-full.js';
import { UserError } from '../errors.js';
import type { StageInstance } from '../spec/model.js';
import type { Executor, Job } from '../executors/executor.js';
import type { Reporter } from './events.js';
import { GpuPool, type GpuLease } from './gpu-pool.js';
import { tail } from './log-tail.js';
import { safeName } from '../paths.js';
import { sha256File } from '../hash/sha256.js';
import { commandFor } from './stage-command.js';
import type { Decision, Workspace } from './workspace.js';

export interface RunOptions {
  jobs: number;
  /** Device ids from `--gpus`, or undefined for the default device. */
  gpus?: string[];
  force: boolean;
  keepGoing: boolean;
  /** CI mode: restore only; a stage that would execute fails instead. */
  frozen?: boolean;
  /** Hard stop (Ctrl-C): kill running stages, start nothing. */
  signal: AbortSignal;
  /** Soft stop (watch: a newer pass supersedes this one): start nothing new, let running stages finish. */
  supersede?: AbortSignal;
  /** Shared across watch passes, so `--jobs` and the GPU pool bound all of them together. */
  shared?: SharedRunState;
}

/** A stage process that is running now, whichever pass started it. */
export interface InFlight {
  key: string;
  outcome: Promise<Outcome>;
  cancel: AbortController;
}

export class SharedRunState {
  readonly queue: PQueue;
  readonly gpus: GpuPool;
  readonly inFlight = new Map<string, InFlight>();

  constructor(jobs: number, gpus: string[] | undefined) {
    this.queue = new PQueue({ concurrency: Math.max(1, jobs) });
    this.gpus = new GpuPool(gpus);
  }
}

/** `deferred`: listed from a file this run rewrote (or not yet written); the next round plans it. */
export type Outcome = 'up-to-date' | 'restored' | 'ran' | 'failed' | 'blocked' | 'cancelled' | 'deferred';

const LOG_TAIL_LINES = 20;

/**
 * Runs the selected instances: each waits for its upstream, decides from the hashes it then
 * sees (so an upstream that reran with identical outs leaves it up to date: early cutoff), and
 * runs or restores through a p-queue bounded by `--jobs`, longest remaining path first.
 */
export class Runner {
  private readonly queue: PQueue;
  private readonly gpus: GpuPool;
  private readonly inFlight: Map<string, InFlight>;
  private failedOnce = false;
  private fatalError: DiskFullError | undefined;
  private readonly stopAll = new AbortController();
  private readonly listHashes = new Map<string, string | undefined>();

  constructor(
    private readonly ws: Workspace,
    /** Which executor runs an instance (the run's choice, or the stage's own `executor:`). */
    private readonly executorFor: (instance: StageInstance) => Executor,
    private readonly reporter: Reporter,
    private readonly options: RunOptions,
  ) {
    const shared = options.shared ?? new SharedRunState(options.jobs, options.gpus);
    this.queue = shared.queue;
    this.gpus = shared.gpus;
    this.inFlight = shared.inFlight;
    options.signal.addEventListener('abort', () => this.stopAll.abort(), { once: true });
  }

  async run(selected: Set<string>): Promise<Map<string, Outcome>> {
    const { graph } = this.ws;
    const priority = graph.longestPathToSink(selected);
    const estimates = new Map<string, number>();
    for (const id of this.reporter.wantsEstimates ? selected : []) {
      const previous = this.ws.lock.get(id);
      try {
        const record = previous ? this.ws.runs.get(previous.key) : undefined;
        if (record) estimates.set(id, record.durationMs);
      } catch {
        // A refused record gives no estimate; deciding what to do with it comes later.
      }
    }
    this.reporter.begin(selected.size, estimates, this.options.jobs);
    for (const instance of graph.order) {
      if (selected.has(instance.id) && this.executorFor(instance).usesLocalGpus && Math.ceil(instance.resources.gpu) > this.gpus.size) {
        throw new UserError(`${instance.id} asks for ${instance.resources.gpu} GPUs but the pool has ${this.gpus.size} (--gpus)`, instance.location);
      }
    }
    const outcomes = new Map<string, Promise<Outcome>>();
    for (const instance of graph.order) {
      if (!selected.has(instance.id)) continue;
      const ups = [...graph.upstream.get(instance.id)!].filter((id) => selected.has(id)).map((id) => [id, outcomes.get(id)!] as const);
      outcomes.set(instance.id, this.instance(instance, ups, priority.get(instance.id) ?? 0));
    }
    const settled = new Map<string, Outcome>();
    for (const [id, outcome] of outcomes) settled.set(id, await outcome);
    return settled;
  }

  private async instance(instance: StageInstance, ups: (readonly [string, Promise<Outcome>])[], priority: number): Promise<Outcome> {
    let upstreamUpToDate = true;
    let deferredBy: string | undefined;
    for (const [id, promise] of ups) {
      const outcome = await promise;
      upstreamUpToDate &&= outcome === 'up-to-date';
      if (outcome === 'deferred') deferredBy ??= id;
      if (outcome === 'failed' || outcome === 'blocked' || outcome === 'cancelled') {
        if (outcome === 'cancelled') {
          this.reporter.emit({ event: 'cancelled', stage: instance.id });
          return 'cancelled';
        }
        this.reporter.emit({ event: 'blocked', stage: instance.id, by: id });
        return 'blocked';
      }
    }
    if (this.stopped) {
      this.reporter.emit({ event: 'cancelled', stage: instance.id });
      return 'cancelled';
    }
    const deferral = deferredBy !== undefined ? `waits for ${deferredBy}` : this.deferral(instance);
    if (deferral !== undefined) {
      this.reporter.emit({ event: 'deferred', stage: instance.id, reason: deferral });
      return 'deferred';
    }
    // A run after a few edits decides only what they reach (a sweep of 10,000 stages, one edited).
    if (upstreamUpToDate && !this.options.force && !this.inFlight.has(instance.id) && this.ws.unchangedSinceSummary(instance)) {
      this.reporter.emit({ event: 'skipped', stage: instance.id, reason: instance.frozen ? 'frozen' : 'up-to-date' });
      return 'up-to-date';
    }
    const decision = await this.ws.decide(instance, await this.ws.depHashes(instance), this.options.force);
    const running = this.inFlight.get(instance.id);
    if (running) {
      // Started by an earlier watch pass: the same key means the same work, so wait for it;
      // a different key means it is computing something stale, so stop it and start over.
      if (running.key === decision.key) return running.outcome;
      running.cancel.abort();
      await running.outcome;
      return this.instance(instance, [], priority);
    }
    if (decision.action === 'up-to-date') {
      this.reporter.emit({ event: 'skipped', stage: instance.id, reason: instance.frozen ? 'frozen' : 'up-to-date' });
      return 'up-to-date';
    }
    return (await this.queue.add(() => this.perform(instance, decision), { priority })) ?? 'cancelled';
  }

  /** Why an instance listed from a `from:` file cannot run on this plan: the file is not written yet, or was rewritten since. */
  private deferral(instance: StageInstance): string | undefined {
    if (instance.pending) return `its instances are listed in ${instance.pending.from}, written in this run`;
    for (const source of instance.dynamic ?? []) {
      if (this.listedFrom(source.file) !== source.read) return `${source.file}, which lists it, changed in this run`;
    }
    return undefined;
  }

  /**
   * A `from:` file's hash, once per run: every instance listed from it comes after its writer,
   * so by the time one asks, the file is as this run leaves it (10,000 trials read it once).
   */
  private listedFrom(file: string): string | undefined {
    if (!this.listHashes.has(file)) {
      const abs = path.join(this.ws.project.dir, file);
      this.listHashes.set(file, existsSync(abs) ? sha256File(abs) : undefined);
    }
    return this.listHashes.get(file);
  }

  /** True once nothing new may start: Ctrl-C, a failure without --keep-going, or a newer watch pass. */
  private get stopped(): boolean {
    return this.stopAll.signal.aborted || Boolean(this.options.supersede?.aborted);
  }

  /** A full disk stops the whole run: every stage after it would hit the same wall. */
  private async perform(instance: StageInstance, decision: Decision): Promise<Outcome> {
    const started = Date.now();
    try {
      return await this.performOrThrow(instance, decision, started);
    } catch (error) {
      if (!(error instanceof DiskFullError)) throw error;
      this.fatalError ??= error;
      const outcome = this.fail(instance, Date.now() - started, `the disk is full: could not write ${error.context.what}`, path.join(this.ws.logsDir, `${safeName(instance.id)}.log`));
      this.stopAll.abort();
      return outcome;
    }
  }

  private async performOrThrow(instance: StageInstance, decision: Decision, started: number): Promise<Outcome> {
    if (this.stopped) {
      this.reporter.emit({ event: 'cancelled', stage: instance.id });
      return 'cancelled';
    }
    if (decision.action === 'restore' && decision.record) {
      this.reporter.emit({ event: 'started', stage: instance.id, action: 'restore', reasons: decision.reasons });
      try {
        const outs = await this.ws.restore(instance, decision.record);
        this.ws.recordInLock(instance, decision, outs);
        this.reporter.emit({ event: 'restored', stage: instance.id, duration_ms: Date.now() - started });
        return 'restored';
      } catch (error) {
        if (!(error instanceof CacheEntryError)) throw error;
        decision.reasons.push(`cache entry unusable (${error.message}); running instead`);
      }
    }
    return this.execute(instance, decision, started);
  }

  private async execute(instance: StageInstance, decision: Decision, started: number): Promise<Outcome> {
    if (this.options.frozen) {
      return this.fail(instance, 0, `--frozen: would run (${decision.reasons.join('; ')})`, path.join(this.ws.logsDir, 'none'));
    }
    const executor = this.executorFor(instance);
    // A cluster places GPUs itself; the local pool only governs this machine's devices.
    const lease = await this.gpus.acquire(executor.usesLocalGpus ? instance.resources.gpu : 0);
    if (this.stopped) {
      lease.release();
      this.reporter.emit({ event: 'cancelled', stage: instance.id });
      return 'cancelled';
    }
    const cancel = new AbortController();
    const onStop = () => cancel.abort();
    this.stopAll.signal.addEventListener('abort', onStop, { once: true });
    const outcome = this.executeHolding(executor, instance, decision, started, lease, cancel.signal);
    this.inFlight.set(instance.id, { key: decision.key, outcome, cancel });
    try {
      return await outcome;
    } finally {
      this.stopAll.signal.removeEventListener('abort', onStop);
      if (this.inFlight.get(instance.id)?.outcome === outcome) this.inFlight.delete(instance.id);
    }
  }

  private async executeHolding(executor: Executor, instance: StageInstance, decision: Decision, started: number, lease: GpuLease, signal: AbortSignal): Promise<Outcome> {
    try {
      this.reporter.emit({ event: 'started', stage: instance.id, action: 'run', reasons: decision.reasons, ...(lease.ids ? { gpus: lease.ids } : {}) });
      this.ws.clearOuts(instance);
      const logFile = path.join(this.ws.logsDir, `${safeName(instance.id)}.log`);
      const env: Record<string, string> = { ...instance.env, PIPELINE_STAGE: instance.id };
      if (lease.ids) env.CUDA_VISIBLE_DEVICES = lease.ids.join(',');
      env.PIPELINE_CPUS = String(cpuShare(instance.resources.cpu, executor.usesLocalGpus, this.options.jobs));
      const job: Job = {
        id: instance.id,
        script: commandFor(instance, this.ws),
        cwd: path.join(this.ws.project.dir, instance.cwd),
        env,
        logFile,
        resources: instance.resources,
        options: instance.executorOptions[executor.name] ?? {},
      };
      const result = await onDiskFullAsync(
        () => executor.execute(job, signal, (line) => this.onLine(instance, line)),
        () => ({ ...this.ws.cacheFull(`the log of ${instance.id}`), dir: path.dirname(logFile) }),
      );
      const durationMs = Date.now() - started;
      if (result.cancelled) {
        this.reporter.emit({ event: 'cancelled', stage: instance.id });
        return 'cancelled';
      }
      if (result.exitCode !== 0) {
        const message = result.detail ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`);
        return this.fail(instance, durationMs, message, logFile, result.exitCode, result.signal);
      }
      const stored = await this.ws.storeOuts(instance);
      if ('missing' in stored) {
        return this.fail(instance, durationMs, `the command succeeded but did not write ${stored.missing.join(', ')}`, logFile, 0);
      }
      // A run with an uncached out has nothing to restore it from: no record, only the lock.
      if (stored.cached) {
        onDiskFull(
          () => this.ws.runs.put({ key: decision.key, stage: instance.id, outs: stored.outs, durationMs, finishedAt: new Date().toISOString() }),
          () => this.ws.cacheFull(`the run record of ${instance.id}`),
        );
      }
      const outHashes = Object.fromEntries(Object.entries(stored.outs).map(([out, s]) => [out, s.hash]));
      this.ws.recordInLock(instance, decision, outHashes);
      this.reporter.emit({ event: 'finished', stage: instance.id, duration_ms: durationMs });
      return 'ran';
    } finally {
      lease.release();
    }
  }

  private fail(instance: StageInstance, durationMs: number, message: string, logFile: string, exitCode?: number, signal?: string): Outcome {
    this.reporter.emit({
      event: 'failed',
      stage: instance.id,
      duration_ms: durationMs,
      ...(exitCode !== undefined ? { exit_code: exitCode } : {}),
      ...(signal ? { signal } : {}),
      message,
      log: path.relative(this.ws.project.dir, logFile),
      log_tail: tail(logFile, LOG_TAIL_LINES),
    });
    this.failedOnce = true;
    if (!this.options.keepGoing) this.stopAll.abort();
    return 'failed';
  }

  /** Stages report progress as `::progress {json}` lines on stdout. */
  private onLine(instance: StageInstance, line: string): void {
    const data = parseProgressLine(line);
    if (data) this.reporter.emit({ event: 'progress', stage: instance.id, data });
  }

  get failed(): boolean {
    return this.failedOnce;
  }

  /** The full disk that stopped this run, if one did. */
  get fatal(): DiskFullError | undefined {
    return this.fatalError;
  }
}


/**
 * The cores a stage may use, exported as PIPELINE_CPUS so a trainer sizes its thread pool: its
 * `resources.cpu`, else on this machine an even share of the cores among `--jobs` stages (two
 * jobs on two cores each get one, not two threads apiece fighting), else on a cluster one, which
 * is what Slurm gives a task that did not ask.
 */
export function cpuShare(declared: number | undefined, local: boolean, jobs: number): number {
  if (declared !== undefined) return Math.max(1, Math.ceil(declared));
  return local ? Math.max(1, Math.floor(availableParallelism() / Math.max(1, jobs))) : 1;
}
