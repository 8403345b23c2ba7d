import { createHash } from 'node:crypto';
import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { PathMap } from './path-map.js';
import { sha256Text } from './sha256.js';
import type { StatCache } from './stat-cache.js';
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
  | { kind: 'dir'; hash: string; entries: ManifestEntry[] }
  | { kind: 'missing'; hash: 'missing' };

/** What identifies a file's version without reading it. */
export function fileSignature(stats: BigIntStats): string {
  return `f${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.mode}`;
}

/** A directory's mtime changes when entries are added, removed or renamed. */
export function dirSignature(stats: BigIntStats): string {
  return `d${stats.ino}:${stats.mtimeNs}`;
}

/**
 * One signature for a whole directory tree: a sha256 over the stat signature of every file and
 * directory in it, in walk order, prefixed with the newest mtime seen (`T<mtimeNs>:<sha>`).
 * The no-op check re-walks and compares one string per directory dep instead of loading and
 * comparing a million per-file entries.
 */
export class TreeSignature {
  private readonly hash = createHash('sha256');
  private newest = 0n;

  constructor(rootStats: BigIntStats) {
    this.add('', dirSignature(rootStats), rootStats.mtimeNs);
  }

  add(inner: string, signature: string, mtimeNs: bigint): void {
    this.hash.update(`${inner}\0${signature}\n`);
    if (mtimeNs > this.newest) this.newest = mtimeNs;
  }

  digest(): string {
    return `T${this.newest}:${this.hash.digest('hex')}`;
  }
}

/** A directory's files in manifest order (see `walkTree`), with their stats. */
export interface WalkedFile {
  inner: string;
  stats: BigIntStats;
}

/**
 * Every file under `abs` (following symlinks, as the manifest does), names sorted within each
 * directory, feeding `tree` with every file's and subdirectory's signature.
 */
export function walkTree(abs: string, tree: TreeSignature, onFile: (file: WalkedFile) => void, inner = ''): void {
  for (const name of readdirSync(abs).sort()) {
    const childAbs = path.join(abs, name);
    const childInner = inner ? `${inner}/${name}` : name;
    const stats = statSync(childAbs, { bigint: true, throwIfNoEntry: false });
    if (!stats) continue;
    if (stats.isDirectory()) {
      tree.add(childInner, dirSignature(stats), stats.mtimeNs);
      walkTree(childAbs, tree, onFile, childInner);
    } else if (stats.isFile()) {
      tree.add(childInner, fileSignature(stats), stats.mtimeNs);
      onFile({ inner: childInner, stats });
    }
  }
}

/** The tree signature of `abs` now (undefined when it is no longer a directory). */
export function treeSignatureOf(abs: string): string | undefined {
  const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
  if (!stats?.isDirectory()) return undefined;
  const tree = new TreeSignature(stats);
  walkTree(abs, tree, () => {});
  return tree.digest();
}

/** What changed in a directory since pipeline last hashed it (per the stat cache), a few names of each kind. */
export interface DirChanges {
  modified: number;
  added: number;
  removed: number;
  names: { modified: string[]; added: string[]; removed: string[] };
}

const NAMED = 3;

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

/** Files modified this close to the hash are not cached: a write in the same clock tick would go unseen. */
const RACY_WINDOW_NS = 50_000_000n;

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
    if (this.isRacy(stats)) return;
    this.statCache.set(rel, stats.ino, stats.size, stats.mtimeNs, hash);
  }

  /** `saveStatCache: false` leaves the stat cache as the last run left it (`status`: what changed stays nameable). */
  async close(options: { saveStatCache?: boolean } = {}): Promise<void> {
    await this.pool.close();
    if (options.saveStatCache !== false) this.statCache.save();
  }

  private isRacy(stats: BigIntStats): boolean {
    return stats.mtimeNs > BigInt(Date.now()) * 1_000_000n - RACY_WINDOW_NS;
  }

  private async compute(rel: string): Promise<PathHash> {
    const abs = path.resolve(this.projectDir, rel);
    const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!stats) {
      this.observed.set(rel, 'missing');
      return { kind: 'missing', hash: 'missing' };
    }
    if (stats.isDirectory()) {
      const tree = new TreeSignature(stats);
      const files: { rel: string; inner: string; stats: BigIntStats }[] = [];
      walkTree(abs, tree, (f) => files.push({ rel: `${rel}/${f.inner}`, inner: f.inner, stats: f.stats }));
      // One entry for the whole tree: its files' signatures are in it.
      this.observed.set(rel, tree.digest());
      const before = files.map((f) => (this.statCache.get(f.rel, f.stats.ino, f.stats.size, f.stats.mtimeNs) ? undefined : (this.statCache.previous(f.rel) ?? null)));
      let recorded = 0;
      for (const _ of this.statCache.inside(rel)) recorded++;
      const hashes = await this.hashFiles(files, false);
      this.noteChanges(rel, files, before, hashes, recorded);
      const entries = files.map((f, i) => ({ path: f.inner, hash: hashes[i], exec: (Number(f.stats.mode) & 0o111) !== 0 }));
      return { kind: 'dir', hash: dirHash(entries), entries };
    }
    const [hash] = await this.hashFiles([{ rel, stats }]);
    return { kind: 'file', hash, exec: (Number(stats.mode) & 0o111) !== 0 };
  }

  /**
   * `before`: per file, undefined when its stat signature matched the cache (unchanged), its
   * previous hash when the signature changed, null when the cache never had it.
   */
  private noteChanges(rel: string, files: readonly { rel: string; inner: string }[], before: readonly (string | null | undefined)[], hashes: readonly string[], recorded: number): void {
    // Without a record of this directory (a fresh clone, a lost stat cache) nothing can be said.
    if (recorded === 0) return;
    const c: DirChanges = { modified: 0, added: 0, removed: 0, names: { modified: [], added: [], removed: [] } };
    let known = 0;
    files.forEach((f, i) => {
      const prev = before[i];
      if (prev === null) {
        c.added++;
        if (c.names.added.length < NAMED) c.names.added.push(f.inner);
        return;
      }
      known++;
      if (prev !== undefined && prev !== hashes[i]) {
        c.modified++;
        if (c.names.modified.length < NAMED) c.names.modified.push(f.inner);
      }
    });
    c.removed = recorded - known;
    if (c.removed > 0) {
      const present = new Set(files.map((f) => f.rel));
      const gone = [...this.statCache.inside(rel)].filter((old) => !present.has(old));
      c.names.removed = gone.slice(0, NAMED).map((old) => old.slice(rel.length + 1));
      // Forgotten once a run saves the stat cache; `status` does not save it, so it keeps saying so.
      for (const old of gone) this.statCache.delete(old);
    }
    if (c.modified + c.added + c.removed > 0) this.changes.set(rel, c);
  }

  private async hashFiles(files: { rel: string; stats: BigIntStats }[], observe = true): Promise<string[]> {
    const hashes: string[] = new Array(files.length);
    const todo: number[] = [];
    files.forEach((f, i) => {
      if (observe) this.observed.set(f.rel, fileSignature(f.stats));
      const cached = this.statCache.get(f.rel, f.stats.ino, f.stats.size, f.stats.mtimeNs);
      if (cached) hashes[i] = cached;
      else todo.push(i);
    });
    if (todo.length) {
      const computed = await this.pool.hashAll(todo.map((i) => ({ abs: path.resolve(this.projectDir, files[i].rel), size: Number(files[i].stats.size) })));
      todo.forEach((fileIndex, k) => {
        hashes[fileIndex] = computed[k];
        const f = files[fileIndex];
        if (!this.isRacy(f.stats)) this.statCache.set(f.rel, f.stats.ino, f.stats.size, f.stats.mtimeNs, computed[k]);
      });
    }
    return hashes;
  }
}
