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

  async close(): Promise<void> {
    await this.pool.close();
    this.statCache.save();
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
      this.observed.set(rel, dirSignature(stats));
      const files: { rel: string; inner: string; stats: BigIntStats }[] = [];
      this.walk(abs, rel, '', files);
      const hashes = await this.hashFiles(files);
      const entries = files.map((f, i) => ({ path: f.inner, hash: hashes[i], exec: (Number(f.stats.mode) & 0o111) !== 0 }));
      return { kind: 'dir', hash: dirHash(entries), entries };
    }
    const [hash] = await this.hashFiles([{ rel, stats }]);
    return { kind: 'file', hash, exec: (Number(stats.mode) & 0o111) !== 0 };
  }

  private walk(abs: string, rel: string, inner: string, out: { rel: string; inner: string; stats: BigIntStats }[]): void {
    for (const name of readdirSync(abs).sort()) {
      const childAbs = path.join(abs, name);
      const childRel = `${rel}/${name}`;
      const childInner = inner ? `${inner}/${name}` : name;
      const stats = statSync(childAbs, { bigint: true, throwIfNoEntry: false });
      if (!stats) continue;
      if (stats.isDirectory()) {
        this.observed.set(childRel, dirSignature(stats));
        this.walk(childAbs, childRel, childInner, out);
      } else if (stats.isFile()) out.push({ rel: childRel, inner: childInner, stats });
    }
  }

  private async hashFiles(files: { rel: string; stats: BigIntStats }[]): Promise<string[]> {
    const hashes: string[] = new Array(files.length);
    const todo: number[] = [];
    files.forEach((f, i) => {
      this.observed.set(f.rel, fileSignature(f.stats));
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
