import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { CorruptObjectError, ObjectStore, type StoredOut } from '../store/object-store.js';
import { onDiskFull, sizeOfPath, type DiskFullContext } from '../disk-full.js';
import { RunCache, type RunRecord } from '../store/run-cache.js';
import { CacheEntryError, UnsafeCacheEntryError } from '../store/untrusted.js';
import { definitionOf, fingerprintOf, keyOf, type Fingerprint } from '../fingerprint.js';
import { StageGraph } from '../graph.js';
import { UserError } from '../errors.js';
import { ContentHasher, describeChanges, type ManifestEntry, type Unchanged } from '../hash/content-hasher.js';
import { StatCache } from '../hash/stat-cache.js';
import { UrlDeps } from '../hash/url-deps.js';
import { isUrlDep, symlinkEscapeChecker } from '../paths.js';
import { ProjectLayout } from '../store/layout.js';
import { Lockfile, type LockEntry } from '../store/lockfile.js';
import type { Project, StageInstance } from '../spec/model.js';
import { explainKeyChange } from './explain.js';

export type Action = 'up-to-date' | 'restore' | 'run';

export interface Decision {
  action: Action;
  key: string;
  fingerprint: Fingerprint;
  /** Why it is not up to date (empty when it is). */
  reasons: string[];
  /** pipeline.lock already records this key (only outs may be missing): what `--frozen` requires. */
  lockMatches: boolean;
  record?: RunRecord;
}

/**
 * One project's state on disk: graph, content hashes, cache and lock. It answers "what would
 * this instance need?" and performs restores and recording; scheduling lives elsewhere.
 */
export class Workspace {
  readonly graph: StageGraph;
  readonly hasher: ContentHasher;
  /** http(s):// and s3:// deps: checked with a HEAD, never downloaded. */
  readonly urlDeps: UrlDeps;
  readonly store: ObjectStore;
  readonly runs: RunCache;
  readonly lock: Lockfile;
  readonly layout: ProjectLayout;
  readonly cacheDir: string;
  private readonly known: Unchanged | undefined;
  /** Directory manifests read (and checked) this command: deciding and restoring read the same ones. */
  private readonly manifests = new Map<string, ManifestEntry[]>();

  /**
   * `statCache` and `lock` may be shared between workspaces over the same directory: watch mode
   * reloads the spec on every save while stages started by an earlier pass still record into
   * the one lock.
   */
  constructor(readonly project: Project, options: { cacheDir?: string; statCache?: StatCache; lock?: Lockfile; known?: Unchanged; graph?: StageGraph } = {}) {
    this.graph = options.graph?.project === project ? options.graph : new StageGraph(project);
    this.layout = new ProjectLayout(project.dir, options.cacheDir, project.specDir);
    this.cacheDir = this.layout.cacheDir;
    this.urlDeps = new UrlDeps(project.remote?.url.startsWith('s3://') ? project.remote : {});
    this.hasher = new ContentHasher(project.dir, options.statCache ?? Workspace.statCacheFor(project.specDir));
    if (options.known) this.hasher.seed(options.known);
    this.known = options.known;
    this.store = new ObjectStore(this.cacheDir);
    this.runs = new RunCache(this.cacheDir);
    this.lock = options.lock ?? Workspace.lockFor(project.specDir);
  }

  /** `specDir`: the folder holding the spec, where pipeline.lock and .pipeline/ live. */
  static statCacheFor(specDir: string): StatCache {
    return new StatCache(new ProjectLayout(specDir).state('stat-cache.tsv'));
  }

  static lockFor(specDir: string): Lockfile {
    const layout = new ProjectLayout(specDir);
    return new Lockfile(layout.lockFile, layout.state('lock.json'));
  }

  get logsDir(): string {
    return this.layout.logsDir;
  }

  async depHashes(instance: StageInstance): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [index, dep] of instance.deps.entries()) {
      out[dep] = isUrlDep(dep) ? await this.urlDeps.signature(dep, () => instance.fieldLocation('deps', index)) : (await this.hasher.hash(dep)).hash;
    }
    return out;
  }

  /**
   * Up to date without computing its key: nothing that shapes it has changed since the last
   * full run, which ended with it up to date (see Unchanged.sameInputs). The caller checks that
   * its upstream stayed up to date, so none of its deps was rewritten since the check.
   */
  unchangedSinceSummary(instance: StageInstance): boolean {
    const known = this.known;
    if (!known?.sameInputs || instance.alwaysChanged) return false;
    return instance.deps.every((dep) => known.paths.has(dep)) && instance.outs.every((out) => known.paths.has(out));
  }

  /** Decides what `instance` needs given its current dep hashes. */
  async decide(instance: StageInstance, deps: Record<string, string>, force = false): Promise<Decision> {
    const entry = this.lock.get(instance.id);
    if (instance.frozen) return this.decideFrozen(instance, entry);
    const fingerprint = fingerprintOf(instance, deps);
    const key = keyOf(fingerprint);
    let reasons: string[];
    const lockMatches = entry?.key === key;
    if (instance.alwaysChanged && !force) {
      reasons = ['always_changed: runs every time'];
      return { action: 'run', key, fingerprint, reasons, lockMatches };
    }
    if (force) {
      reasons = ['forced (--force)'];
    } else if (entry?.key === key) {
      reasons = await this.outProblems(entry);
      if (reasons.length === 0) return { action: 'up-to-date', key, fingerprint, reasons, lockMatches };
    } else {
      reasons = explainKeyChange(entry, fingerprint, this.graph.producers.get(instance.id) ?? new Map(), (old) => definitionOf(instance, old), (dep) => {
        const changes = this.hasher.changesOf(dep);
        return changes && describeChanges(changes);
      });
    }
    const record = force ? undefined : this.restorable(key, reasons);
    return record ? { action: 'restore', key, fingerprint, reasons, record, lockMatches } : { action: 'run', key, fingerprint, reasons, lockMatches };
  }

  /**
   * A frozen stage is not checked for changes and never runs: the locked entry stands, its outs
   * restored from the cache if they are gone. Without a locked entry or a restorable cache it
   * cannot be had, which is an error rather than a silent run.
   */
  private async decideFrozen(instance: StageInstance, entry: LockEntry | undefined): Promise<Decision> {
    if (!entry) throw new UserError(`${instance.id} is frozen but pipeline.lock has no run of it; unfreeze it (frozen: false) to build it once`, instance.location);
    const fingerprint: Fingerprint = { definition: entry.cmd, outs: Object.keys(entry.outs).sort(), params: entry.params, deps: entry.deps, env: entry.env ?? {} };
    const reasons = await this.outProblems(entry);
    if (reasons.length === 0) return { action: 'up-to-date', key: entry.key, fingerprint, reasons, lockMatches: true };
    const record = this.restorable(entry.key, reasons);
    if (!record) throw new UserError(`${instance.id} is frozen and ${reasons.join(', ')}, which the cache cannot restore; unfreeze it (frozen: false) to rebuild it`, instance.location);
    return { action: 'restore', key: entry.key, fingerprint, reasons: ['frozen', ...reasons], record, lockMatches: true };
  }

  private async outProblems(entry: LockEntry): Promise<string[]> {
    const problems: string[] = [];
    for (const [out, hash] of Object.entries(entry.outs)) {
      const now = await this.hasher.hash(out);
      if (now.kind === 'missing') problems.push(`out ${out} missing`);
      else if (now.hash !== hash) problems.push(`out ${out} modified`);
    }
    return problems;
  }

  /** A run record whose objects are all present, or undefined (a refused one says why in `reasons`). */
  restorable(key: string, reasons: string[] = []): RunRecord | undefined {
    try {
      const record = this.runs.get(key);
      if (!record) return undefined;
      for (const out of Object.values(record.outs)) {
        if (!this.store.has(out.hash)) return undefined;
        if (out.kind === 'dir') this.manifestOf(out.hash);
      }
      return record;
    } catch (error) {
      if (!(error instanceof CacheEntryError)) throw error;
      reasons.push(`${error.message}; running instead`);
      return undefined;
    }
  }

  /** A directory manifest from the cache, checked once per command (a refused one throws each time). */
  manifestOf(hash: string): ManifestEntry[] {
    let entries = this.manifests.get(hash);
    if (!entries) {
      entries = this.store.readManifest(hash);
      this.manifests.set(hash, entries);
    }
    return entries;
  }

  /**
   * Puts a run record's outs in place, verified. Throws a CacheEntryError if the cache lies or
   * asks for something unsafe; every manifest is read and every out's location checked before
   * the first byte is written, so a refused record leaves the project as it was.
   */
  async restore(instance: StageInstance, record: RunRecord): Promise<Record<string, string>> {
    const outHashes: Record<string, string> = {};
    const manifests = new Map<string, ManifestEntry[]>();
    for (const out of instance.outs) {
      const stored = record.outs[out];
      if (!stored) throw new CorruptObjectError(`(run ${record.key} has no out ${out})`, 'missing');
      this.checkOutsideLinks(out);
      if (stored.kind === 'dir') manifests.set(out, this.manifestOf(stored.hash));
    }
    for (const out of instance.outs) {
      const stored = record.outs[out]!;
      const abs = path.join(this.project.dir, out);
      this.hasher.invalidate(out);
      const current = await this.hasher.hash(out);
      if (current.hash !== stored.hash) {
        rmSync(abs, { recursive: true, force: true });
        const entries = stored.kind === 'dir' ? manifests.get(out)! : [];
        onDiskFull(
          () => {
            try {
              this.restoreOut(out, abs, stored, entries);
            } catch (error) {
              // Half an out is worse than none: it would hash as "modified" and hide what failed.
              rmSync(abs, { recursive: true, force: true });
              this.hasher.invalidate(out);
              throw error;
            }
          },
          () => ({
            what: `out ${out}`,
            dir: this.project.dir,
            bytes: this.store.sizeOf(stored.kind === 'file' ? [stored.hash] : entries.map((e) => e.hash)),
            kept: 'the cache still holds it and pipeline.lock keeps every stage that finished;',
            remedy: 'free space on that disk and run again: what is left restores from the cache.',
          }),
        );
        this.hasher.invalidate(out);
      }
      outHashes[out] = stored.hash;
    }
    return outHashes;
  }

  private restoreOut(out: string, abs: string, stored: StoredOut, entries: ManifestEntry[]): void {
    if (stored.kind === 'file') {
      this.store.restoreFile(stored.hash, abs, stored.exec);
      this.hasher.remember(out, statSync(abs, { bigint: true }), stored.hash);
      return;
    }
    mkdirSync(abs, { recursive: true });
    for (const entry of entries) {
      const file = path.join(abs, entry.path);
      this.store.restoreFile(entry.hash, file, entry.exec);
      this.hasher.remember(`${out}/${entry.path}`, statSync(file, { bigint: true }), entry.hash);
    }
  }

  /**
   * Refuses to restore `out` through a symlink that leaves the project: a directory on the way
   * to it (or the out itself) that resolves outside would let a cache entry write anywhere.
   * Load time refuses such outs already; this covers a link made since (fresh checker: no memo).
   */
  private checkOutsideLinks(out: string): void {
    if (symlinkEscapeChecker(this.project.dir)(out)) {
      throw new UnsafeCacheEntryError(`out ${out}`, 'it resolves through a symlink to outside the project; restoring through it could write anywhere', this.cacheDir);
    }
  }

  /**
   * Hashes a finished stage's outs into the object store. Returns what is missing, if anything.
   * An out with `cache: false` is hashed but not stored; `cached` then says the run cannot be restored.
   */
  async storeOuts(instance: StageInstance): Promise<{ outs: Record<string, StoredOut>; cached: boolean } | { missing: string[] }> {
    const outs: Record<string, StoredOut> = {};
    const missing: string[] = [];
    let cached = true;
    for (const out of instance.outs) {
      this.hasher.invalidate(out);
      const hashed = await this.hasher.hash(out);
      const abs = path.join(this.project.dir, out);
      if (hashed.kind === 'missing') {
        missing.push(out);
        continue;
      }
      if (instance.outOptions[out]?.cache === false) {
        outs[out] = hashed.kind === 'file' ? { kind: 'file', hash: hashed.hash, exec: hashed.exec } : { kind: 'dir', hash: hashed.hash };
        cached = false;
        continue;
      }
      const entries = hashed.kind === 'dir' ? await this.hasher.entries(out) : [];
      outs[out] = onDiskFull(
        (): StoredOut => (hashed.kind === 'file' ? { kind: 'file', hash: this.store.putFile(abs, hashed.hash), exec: hashed.exec } : { kind: 'dir', hash: this.store.putDirectory(entries, abs) }),
        () => this.cacheFull(`out ${out} of ${instance.id}`, sizeOfPath(abs)),
      );
    }
    return missing.length ? { missing } : { outs, cached };
  }

  /** Why and what to do when the cache's disk fills up while `what` is being stored. */
  cacheFull(what: string, bytes?: number): DiskFullContext {
    return {
      what,
      dir: this.cacheDir,
      ...(bytes !== undefined ? { bytes } : {}),
      kept: 'the stages that finished are kept in pipeline.lock, and the next `pipeline run` with room runs only what is left.',
      remedy: 'Free space (`pipeline cache gc` drops old runs) or move the cache to a larger disk: PIPELINE_CACHE_DIR=/path/with/room.',
    };
  }

  /** Records a finished (run or restored) instance in pipeline.lock. */
  recordInLock(instance: StageInstance, decision: Decision, outs: Record<string, string>): void {
    const entry: LockEntry = {
      key: decision.key,
      cmd: decision.fingerprint.definition,
      deps: decision.fingerprint.deps,
      params: decision.fingerprint.params,
      outs,
    };
    if (Object.keys(instance.env).length) entry.env = instance.env;
    this.lock.set(instance.id, entry);
  }

  /** Removes outs before a run, so a stage never sees (or leaves behind) stale results; `persist: true` ones stay for the command to update. */
  clearOuts(instance: StageInstance): void {
    for (const out of instance.outs) {
      const abs = path.join(this.project.dir, out);
      if (instance.outOptions[out]?.persist) {
        mkdirSync(path.dirname(abs), { recursive: true });
        this.hasher.invalidate(out);
        continue;
      }
      if (existsSync(abs)) rmSync(abs, { recursive: true, force: true });
      mkdirSync(path.dirname(abs), { recursive: true });
      this.hasher.invalidate(out);
    }
  }

  /** Writes pipeline.lock (a full disk there is a DiskFullError) and stops the hash workers. */
  /** False when the stat cache could not be saved (see ContentHasher.close). */
  async close(options: { saveStatCache?: boolean } = {}): Promise<boolean> {
    let saved = false;
    try {
      this.lock.flush(true);
    } finally {
      this.urlDeps.close();
      saved = await this.hasher.close(options);
    }
    return saved;
  }
}
