import { isUrlDep } from '../paths.js';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { UserError } from '../errors.js';
import type { Lockfile } from '../store/lockfile.js';
import type { StatCache } from '../hash/stat-cache.js';
import { Runner, SharedRunState } from '../run/runner.js';
import { Workspace } from '../run/workspace.js';
import type { Executor } from '../executors/executor.js';
import { executorChooser, openWorkspace } from '../session/session.js';
import type { WatchReporter } from './watch-reporter.js';
import { projectRootOf } from '../spec/load.js';

export interface WatchOptions {
  specFile: string;
  targets: string[];
  jobs: number;
  gpus?: string[];
  setParam?: string[];
  /** `--executor`; else the configured one, as for run. */
  executor?: string;
  /** Editors write a save as several events (temp file, rename, chmod): wait this long for quiet. */
  debounceMs: number;
}

/**
 * `pipeline watch`: a pass builds the targets; a save starts a new pass. The new pass shares
 * the job queue, the GPU pool, the lock and the set of running stage processes with the old
 * one: a running stage whose key did not change is waited for, never restarted (a long
 * training survives an edit to the report template); one whose key changed is cancelled and
 * started again.
 */
export class WatchSession {
  private readonly projectDir: string;
  private readonly shared: SharedRunState;
  private readonly statCache: StatCache;
  private readonly lock: Lockfile;
  private readonly hardStop = new AbortController();
  private readonly executors = new Map<string, Executor>();
  private watcher: FSWatcher | undefined;
  private watched = new Set<string>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private current: AbortController | undefined;
  private passes: Promise<void>[] = [];
  /** Settles when the watcher has set up the paths the first pass asked for. */
  private ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: WatchOptions,
    private readonly reporter: WatchReporter,
  ) {
    const specAbs = path.resolve(options.specFile);
    const specDir = path.dirname(specAbs);
    this.projectDir = projectRootOf(specAbs);
    this.shared = new SharedRunState(options.jobs, options.gpus);
    this.statCache = Workspace.statCacheFor(specDir);
    this.lock = Workspace.lockFor(specDir);
  }

  async start(): Promise<void> {
    this.watcher = watch([], {
      ignoreInitial: true,
      atomic: true,
      ignored: (p: string) => /(^|[\\/])(cache|\.pipeline|\.git|node_modules)([\\/]|$)/.test(path.relative(this.projectDir, p)),
    });
    this.watcher.on('all', (_event, changed) => this.onChange(changed));
    this.ready = new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.watch([path.relative(this.projectDir, path.resolve(this.options.specFile))]);
    this.startPass();
    await this.ready;
  }

  /** Stops watching and every running stage; resolves when all passes have wound down. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.hardStop.abort();
    await this.watcher?.close();
    await Promise.allSettled(this.passes);
    this.lock.flush(true);
    this.statCache.save();
  }

  private watch(relPaths: Iterable<string>): void {
    const wanted = new Set(relPaths);
    const added = [...wanted].filter((p) => !this.watched.has(p));
    const removed = [...this.watched].filter((p) => !wanted.has(p) && p !== path.relative(this.projectDir, path.resolve(this.options.specFile)));
    if (added.length) this.watcher!.add(added.map((p) => path.resolve(this.projectDir, p)));
    if (removed.length) this.watcher!.unwatch(removed.map((p) => path.resolve(this.projectDir, p)));
    for (const p of added) this.watched.add(p);
    for (const p of removed) this.watched.delete(p);
  }

  private onChange(absPath: string): void {
    this.pending.add(path.relative(this.projectDir, absPath));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const paths = [...this.pending].sort();
      this.pending.clear();
      this.reporter.emit({ event: 'change', paths });
      this.startPass();
    }, this.options.debounceMs);
  }

  private startPass(): void {
    this.current?.abort();
    const supersede = new AbortController();
    this.current = supersede;
    const pass = this.pass(supersede.signal).catch((error: unknown) => {
      this.reporter.emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    });
    this.passes.push(pass);
  }

  private async pass(supersede: AbortSignal): Promise<void> {
    let ws: Workspace;
    let replan = false;
    try {
      ws = openWorkspace({ specFile: this.options.specFile, overrides: this.options.setParam ?? [] }, { statCache: this.statCache, lock: this.lock });
      const selected = ws.graph.select(this.options.targets);
      this.watch(this.watchList(ws, selected));
      // An edit made before the watcher is set up would go unseen: the first pass waits for it.
      await this.ready;
      const runner = new Runner(ws, executorChooser(ws, this.options.executor, this.executors), this.reporter, {
        jobs: this.options.jobs,
        force: false,
        keepGoing: true,
        signal: this.hardStop.signal,
        supersede,
        shared: this.shared,
      });
      const outcomes = [...(await runner.run(selected)).values()];
      // Instances listed from a file this pass wrote (a search's next rung) are planned by a pass of their own.
      replan = outcomes.includes('deferred') && outcomes.some((o) => o === 'ran' || o === 'restored') && !outcomes.includes('failed');
    } catch (error) {
      if (error instanceof UserError) {
        this.reporter.emit({ event: 'error', message: error.format() });
        return;
      }
      throw error;
    }
    this.lock.flush(true);
    this.statCache.save();
    if (replan && !supersede.aborted && !this.hardStop.signal.aborted) return this.startPass();
    if (!supersede.aborted) this.reporter.emit({ event: 'idle', watching: this.watched.size });
  }

  /** The spec, every params/config file, and the deps no stage produces (our own writes are not edits). */
  private watchList(ws: Workspace, selected: Set<string>): Set<string> {
    const list = new Set<string>(ws.project.inputFiles);
    for (const instance of ws.project.instances) {
      if (!selected.has(instance.id)) continue;
      instance.paramFiles.forEach((f) => list.add(f));
      const producers = ws.graph.producers.get(instance.id)!;
      // A URL dep cannot be watched; it is checked again whenever something else triggers a run.
      for (const dep of instance.deps) if ((producers.get(dep) ?? []).length === 0 && !isUrlDep(dep)) list.add(dep);
    }
    for (const { pattern } of ws.project.globs) list.add(path.posix.dirname(pattern.split('*')[0] + 'x'));
    return list;
  }
}
