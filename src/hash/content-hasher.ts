import { createHash } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { PathMap } from './path-map.js';
import { sha256Text } from './sha256.js';
import type { StatCache } from './stat-cache.js';
import { fileSignature, TreeSignature, treeStat, walkTree, type FileStat, type FolderSignatures } from './tree-signature.js';
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
 * What the no-op check just found as a past run left it, so that the run that follows does
 * not stat it again: paths whose stat signature is unchanged (with the hash that run found),
 * and, inside a directory that changed, the folders that did not (its files' hashes are the
 * stat cache's).
 */
export interface Unchanged {
  /**
   * The spec, params files, pipeline.lock, matrix glob matches and pipeline's version are as
   * they were after the last full run, in which every stage ended up to date: a stage whose
   * deps and outs are all in `paths` (and whose upstream stayed up to date) still is.
   */
  sameInputs?: boolean;
  /** `folders`: a directory's folder digests, as the summary has them (the next summary keeps them). */
  paths: Map<string, { sig: string; hash: PathHash; folders?: Record<string, string> }>;
  /** Per changed directory: its unchanged folders, and how many files it had. */
  folders: Map<string, { trusted: FolderSignatures; files: number }>;
}

/** Files modified this close to the hash are not cached: a write in the same clock tick would go unseen. */
export const RACY_WINDOW_MS = 50;

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
  /** Per directory: folders the no-op check found unchanged (see Unchanged). */
  private readonly trusted = new PathMap<{ trusted: FolderSignatures; files: number }>();
  /** Per directory hashed this command: its folders' signatures, for the next no-op summary. */
  private readonly folders = new PathMap<FolderSignatures>();
  /** Per directory the no-op check verified: its folders' digests (see folderDigestsOf). */
  private readonly seededFolders = new PathMap<Record<string, string>>();
  /** Observed paths modified within the racy window of when they were observed (see racyAtObservation). */
  private readonly racy = new PathMap<true>();

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

  /** The folder signatures of directory `rel`, if this command walked it (and it has few enough folders). */
  foldersOf(rel: string): FolderSignatures | undefined {
    return this.folders.get(rel);
  }

  /** A directory's folder digests: as this command walked them, else as the no-op check verified them. */
  folderDigestsOf(rel: string): Record<string, string> | undefined {
    const walked = this.folders.get(rel);
    return walked ? Object.fromEntries([...walked].map(([inner, f]) => [inner, f.digest])) : this.seededFolders.get(rel);
  }

  /** Takes what the no-op check verified a moment ago (see Unchanged). */
  seed(unchanged: Unchanged): void {
    for (const [rel, { sig, hash, folders }] of unchanged.paths) {
      this.memo.set(rel, hash);
      this.observed.set(rel, sig);
      if (folders) this.seededFolders.set(rel, folders);
    }
    for (const [rel, folders] of unchanged.folders) this.trusted.set(rel, folders);
  }

  /** What changed inside directory `rel` since pipeline last hashed it, when that is known. */
  changesOf(rel: string): DirChanges | undefined {
    return this.changes.get(rel);
  }

  /** Forget memoised hashes of `rel`, everything inside it and every directory containing it. */
  invalidate(rel: string): void {
    this.memo.deleteTree(rel);
    this.observed.deleteTree(rel);
    this.trusted.deleteTree(rel);
    this.folders.deleteTree(rel);
    this.seededFolders.deleteTree(rel);
    this.racy.deleteTree(rel);
  }

  /**
   * Whether `rel` had been modified within the racy window when this command observed it: a
   * rewrite in the same clock tick right after could have kept its signature, so the summary
   * must re-read it before trusting the signature, however long ago that was.
   */
  racyAtObservation(rel: string): boolean {
    return this.racy.get(rel) === true;
  }

  private observe(rel: string, sig: string, mtimeMs: number): void {
    this.observed.set(rel, sig);
    if (mtimeMs > Date.now() - RACY_WINDOW_MS) this.racy.set(rel, true);
    else this.racy.delete(rel);
  }

  /** Records a hash the engine already knows (it just wrote the file from a verified object). */
  remember(rel: string, stats: BigIntStats, hash: string): void {
    const plain = treeStat(stats);
    this.observe(rel, fileSignature(stats), plain.mtimeMs);
    if (this.isRacy(plain)) return;
    this.statCache.set(rel, plain, hash);
  }

  /**
   * `saveStatCache: false` leaves the stat cache as the last run left it (`status`: what changed
   * stays nameable). False when the stat cache could not be saved (a full disk): then no no-op
   * summary may be written, as its trusted folders' hashes come from the stat cache.
   */
  async close(options: { saveStatCache?: boolean } = {}): Promise<boolean> {
    await this.pool.close();
    return options.saveStatCache === false || this.statCache.save();
  }

  /** A plain stat of a project file, undefined if it is no longer a file. */
  private fileStat(rel: string): FileStat | undefined {
    const stats = statSync(path.resolve(this.projectDir, rel), { throwIfNoEntry: false });
    return stats?.isFile() ? { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode } : undefined;
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
    const plain = treeStat(stats);
    this.observe(rel, fileSignature(stats), plain.mtimeMs);
    const [hash] = await this.hashFiles([{ rel, stats: plain }]);
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
    const trust = this.trusted.get(rel);
    // As the summary has it: the stat cache, saved before the summary, held exactly its files.
    const recorded = trust ? trust.files : this.statCache.countInside(rel);
    // Without a record of this directory (a fresh clone, a lost stat cache) nothing can be said.
    const changes: DirChanges | undefined = recorded > 0 ? { modified: 0, added: 0, removed: 0, names: { modified: [], added: [], removed: [] } } : undefined;
    let known = 0;
    const tree = new TreeSignature(treeStat(stats));
    const manifest = createHash('sha256').update('[');
    let files = 0;
    let chunk: { rel: string; inner: string; stats?: FileStat }[] = [];
    const flush = async () => {
      // A trusted folder's files come without a stat: their record in the stat cache, else a stat now.
      const records = chunk.map((f) => (f.stats ? undefined : this.statCache.recorded(f.rel)));
      const stats = chunk.map((f, i) => (records[i] ? undefined : (f.stats ?? this.fileStat(f.rel))));
      const statted = chunk.flatMap((f, i) => (stats[i] ? [{ rel: f.rel, stats: stats[i]! }] : []));
      const cached = statted.map((f) => this.statCache.get(f.rel, f.stats));
      const before = changes ? statted.map((f, k) => (cached[k] ? undefined : (this.statCache.previous(f.rel) ?? null))) : [];
      const hashes = await this.hashFiles(statted, cached);
      let k = 0;
      // One sha256 update per chunk; each entry written as JSON.stringify([path, hash, exec]) would be.
      let text = '';
      chunk.forEach((f, i) => {
        const record = records[i];
        const stat = stats[i];
        if (!record && !stat) return; // gone since it was listed
        const hash = record ? record.hash : hashes[k]!;
        const exec = record ? record.exec : (stat!.mode & 0o111) !== 0;
        const prev = record ? undefined : before[k++];
        text += `${files++ ? ',' : ''}[${JSON.stringify(f.inner)},"${hash}",${exec ? 1 : 0}]`;
        collect?.push({ path: f.inner, hash, exec });
        if (!changes) return;
        if (prev === null) {
          changes.added++;
          if (changes.names.added.length < NAMED) changes.names.added.push(f.inner);
          return;
        }
        known++;
        if (prev !== undefined && prev !== hash) {
          changes.modified++;
          if (changes.names.modified.length < NAMED) changes.names.modified.push(f.inner);
        }
      });
      manifest.update(text);
      chunk = [];
    };
    for (const f of walkTree(abs, tree, trust?.trusted)) {
      chunk.push({ rel: `${rel}/${f.inner}`, inner: f.inner, ...(f.stats ? { stats: f.stats } : {}) });
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
    // One entry for the whole tree: its files' signatures are in it.
    this.observe(rel, tree.digest(), tree.newestMs);
    if (tree.folders) this.folders.set(rel, tree.folders);
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
