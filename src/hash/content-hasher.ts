import { createHash } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { PathMap } from './path-map.js';
import { sha256Text } from './sha256.js';
import type { StatCache } from './stat-cache.js';
import { fileSignature, TreeSignature, treeStat, walkTree, type FileStat } from './tree-signature.js';
import { HashWorkerPool } from './worker-pool.js';

export interface ManifestEntry {
  /** Relative to the directory, posix. */
  path: string;
  hash: string;
  /** The executable bit is content: a script that loses it no longer runs. */
  exec: boolean;
}

export type PathHash =
  | { kind: 'file'; hash: string; exec: boolean }
  /** `files`: how many; their entries on demand (`ContentHasher.entries`): a dep of a million files needs only the hash. */
  | { kind: 'dir'; hash: string; files: number }
  | { kind: 'missing'; hash: 'missing' };

/** What changed in a directory since pipeline last hashed it (per the stat cache), a few names of each kind. */
export interface DirChanges {
  modified: number;
  added: number;
  removed: number;
  names: { modified: string[]; added: string[]; removed: string[] };
}

const NAMED = 3;
/** Files hashed per step of a directory walk: bounds what a million-file directory holds at once. */
const CHUNK = 4096;

/** `d500/f500.txt modified`, `3 files modified (a, b, c), 1 added (d)`. */
export function describeChanges(c: DirChanges): string {
  const parts: string[] = [];
  for (const kind of ['modified', 'added', 'removed'] as const) {
    const n = c[kind];
    if (n === 0) continue;
    const names = c.names[kind];
    parts.push(n === 1 ? `${names[0]} ${kind}` : `${n} files ${kind} (${names.join(', ')}${n > names.length ? `, and ${n - names.length} more` : ''})`);
  }
  return parts.join(', ');
}

/**
 * Paths whose stat signature was just found equal to the one a past command hashed, with that
 * hash: the no-op check's findings, so a run that follows it does not stat them again.
 */
export type KnownPaths = Map<string, { sig: string; hash: PathHash }>;

/** Files modified this close to the hash are not cached: a write in the same clock tick would go unseen. */
const RACY_WINDOW_MS = 50;

/** Canonical text of a directory manifest; its sha256 is the directory's hash and its object id. */
export function manifestText(entries: readonly ManifestEntry[]): string {
  return JSON.stringify([...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((e) => [e.path, e.hash, e.exec ? 1 : 0]));
}

export function dirHash(entries: readonly ManifestEntry[]): string {
  return sha256Text(manifestText(entries));
}

/**
 * Content hashes of project paths (files, and directories as manifests), through the stat
 * cache, memoised for one command. Every write the engine makes to a path goes through
 * `invalidate`, so memoised hashes never go stale within a run.
 */
export class ContentHasher {
  private readonly memo = new PathMap<PathHash>();
  /**
   * The stat signature of every path this command looked at, as of when it looked: the no-op
   * summary compares against these, so any later edit is noticed.
   */
  readonly observed = new PathMap<string>();
  private readonly pool = new HashWorkerPool();
  private readonly changes = new Map<string, DirChanges>();

  constructor(
    private readonly projectDir: string,
    private readonly statCache: StatCache,
  ) {}

  async hash(rel: string): Promise<PathHash> {
    const memo = this.memo.get(rel);
    if (memo) return memo;
    const result = await this.compute(rel);
    this.memo.set(rel, result);
    return result;
  }

  /** The hash this command found for `rel`, if it hashed it. */
  known(rel: string): PathHash | undefined {
    return this.memo.get(rel);
  }

  /** Takes hashes verified by stat signature a moment ago (see KnownPaths). */
  seed(known: KnownPaths): void {
    for (const [rel, { sig, hash }] of known) {
      this.memo.set(rel, hash);
      this.observed.set(rel, sig);
    }
  }

  /** What changed inside directory `rel` since pipeline last hashed it, when that is known. */
  changesOf(rel: string): DirChanges | undefined {
    return this.changes.get(rel);
  }

  /** Forget memoised hashes of `rel`, everything inside it and every directory containing it. */
  invalidate(rel: string): void {
    this.memo.deleteTree(rel);
    this.observed.deleteTree(rel);
  }

  /** Records a hash the engine already knows (it just wrote the file from a verified object). */
  remember(rel: string, stats: BigIntStats, hash: string): void {
    this.observed.set(rel, fileSignature(stats));
    const plain = treeStat(stats);
    if (this.isRacy(plain)) return;
    this.statCache.set(rel, plain, hash);
  }

  /** `saveStatCache: false` leaves the stat cache as the last run left it (`status`: what changed stays nameable). */
  async close(options: { saveStatCache?: boolean } = {}): Promise<void> {
    await this.pool.close();
    if (options.saveStatCache !== false) this.statCache.save();
  }

  private isRacy(stats: FileStat): boolean {
    return stats.mtimeMs > Date.now() - RACY_WINDOW_MS;
  }

  private async compute(rel: string): Promise<PathHash> {
    const abs = path.resolve(this.projectDir, rel);
    const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!stats) {
      this.observed.set(rel, 'missing');
      return { kind: 'missing', hash: 'missing' };
    }
    if (stats.isDirectory()) {
      const { hash, files } = await this.hashDirectory(rel, abs, stats);
      return { kind: 'dir', hash, files };
    }
    // A file dep is observed by its exact signature (the no-op summary), a walk's files by their tree's.
    this.observed.set(rel, fileSignature(stats));
    const [hash] = await this.hashFiles([{ rel, stats: treeStat(stats) }]);
    return { kind: 'file', hash, exec: (Number(stats.mode) & 0o111) !== 0 };
  }

  /** A directory's manifest entries (for storing it as an out); its files' hashes come from the stat cache. */
  async entries(rel: string): Promise<ManifestEntry[]> {
    const abs = path.resolve(this.projectDir, rel);
    const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!stats?.isDirectory()) return [];
    const entries: ManifestEntry[] = [];
    await this.hashDirectory(rel, abs, stats, entries);
    return entries;
  }

  /**
   * Streams the walk: files are hashed (stat cache, else the worker pool) a chunk at a time
   * and their manifest lines fed straight into the directory's sha256, so memory stays flat
   * in the number of files. Notes what changed since the stat cache last saw the directory.
   */
  private async hashDirectory(rel: string, abs: string, stats: BigIntStats, collect?: ManifestEntry[]): Promise<{ hash: string; files: number }> {
    const recorded = this.statCache.countInside(rel);
    // Without a record of this directory (a fresh clone, a lost stat cache) nothing can be said.
    const changes: DirChanges | undefined = recorded > 0 ? { modified: 0, added: 0, removed: 0, names: { modified: [], added: [], removed: [] } } : undefined;
    let known = 0;
    const tree = new TreeSignature(treeStat(stats));
    const manifest = createHash('sha256').update('[');
    let files = 0;
    let chunk: { rel: string; inner: string; stats: FileStat }[] = [];
    const flush = async () => {
      const cached = chunk.map((f) => this.statCache.get(f.rel, f.stats));
      const before = changes ? chunk.map((f, i) => (cached[i] ? undefined : (this.statCache.previous(f.rel) ?? null))) : [];
      const hashes = await this.hashFiles(chunk, cached);
      chunk.forEach((f, i) => {
        const exec = (Number(f.stats.mode) & 0o111) !== 0;
        manifest.update(`${files++ ? ',' : ''}${JSON.stringify([f.inner, hashes[i], exec ? 1 : 0])}`);
        collect?.push({ path: f.inner, hash: hashes[i]!, exec });
        if (!changes) return;
        const prev = before[i];
        if (prev === null) {
          changes.added++;
          if (changes.names.added.length < NAMED) changes.names.added.push(f.inner);
          return;
        }
        known++;
        if (prev !== undefined && prev !== hashes[i]) {
          changes.modified++;
          if (changes.names.modified.length < NAMED) changes.names.modified.push(f.inner);
        }
      });
      chunk = [];
    };
    for (const f of walkTree(abs, tree)) {
      chunk.push({ rel: `${rel}/${f.inner}`, inner: f.inner, stats: f.stats });
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
    // One entry for the whole tree: its files' signatures are in it.
    this.observed.set(rel, tree.digest());
    if (changes) {
      changes.removed = recorded - known;
      if (changes.removed > 0) {
        // Only when something went: which recorded files are gone (a stat each).
        const gone = [...this.statCache.inside(rel)].filter((old) => !statSync(path.resolve(this.projectDir, old), { throwIfNoEntry: false })?.isFile());
        changes.names.removed = gone.slice(0, NAMED).map((old) => old.slice(rel.length + 1));
        // Forgotten once a run saves the stat cache; `status` does not save it, so it keeps saying so.
        for (const old of gone) this.statCache.delete(old);
      }
      if (changes.modified + changes.added + changes.removed > 0) this.changes.set(rel, changes);
    }
    return { hash: manifest.update(']').digest('hex'), files };
  }

  /** `known`: the stat cache's answers, when the caller already asked. */
  private async hashFiles(files: { rel: string; stats: FileStat }[], known?: (string | undefined)[]): Promise<string[]> {
    const hashes: string[] = new Array(files.length);
    const todo: number[] = [];
    files.forEach((f, i) => {
      const cached = known ? known[i] : this.statCache.get(f.rel, f.stats);
      if (cached) hashes[i] = cached;
      else todo.push(i);
    });
    if (todo.length) {
      const computed = await this.pool.hashAll(todo.map((i) => ({ abs: path.resolve(this.projectDir, files[i].rel), size: Number(files[i].stats.size) })));
      todo.forEach((fileIndex, k) => {
        hashes[fileIndex] = computed[k];
        const f = files[fileIndex];
        if (!this.isRacy(f.stats)) this.statCache.set(f.rel, f.stats, computed[k]);
      });
    }
    return hashes;
  }
}
