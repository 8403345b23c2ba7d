import { createHash } from 'node:crypto';
import { readdirSync, statSync, type BigIntStats, type Stats } from 'node:fs';

// Signatures say whether a path changed without reading it. Node built-ins only: the no-op
// check loads this before anything else of pipeline's, and its start-up is part of every no-op.

/** What identifies a file's version without reading it. */
export function fileSignature(stats: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'mode'>): string {
  return `f${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.mode}`;
}

/** Node's own `mtimeMs` for a nanosecond mtime (sec * 1e3 + nsec / 1e6 in doubles), so bigint and number stats agree. */
function msOf(mtimeNs: bigint): number {
  return Number(mtimeNs / 1_000_000_000n) * 1e3 + Number(mtimeNs % 1_000_000_000n) / 1e6;
}

/**
 * The stat fields the stat cache and tree signatures use, as numbers: what a plain stat gives.
 * A directory walk takes plain stats: a bigint stat allocates fourteen bigints, and a million
 * of them cost more in garbage collection than the stat calls themselves.
 */
export interface FileStat {
  ino: number;
  size: number;
  mtimeMs: number;
  mode: number;
}

const RECORD = 5;
/** Beyond this many folders a tree keeps no per-folder digests (a run then re-stats all of it). */
const MAX_FOLDERS = 100_000;

/** One folder's digest (over its direct children) and the newest mtime among them. */
export interface FolderSignature {
  digest: string;
  newest: number;
}

/** Per folder of a tree, by its path inside the tree ('' for the top): what the walk found. */
export type FolderSignatures = Map<string, FolderSignature>;

let scratch = new Float64Array(RECORD * 1024);

/**
 * A folder's direct children as (kind, inode, size, mtime, mode) records packed as doubles,
 * digested: no string per file. Names need not be in it: adding, removing or renaming an
 * entry changes the folder's mtime (in its parent's digest), editing a file its own.
 */
function signFolder(children: readonly Child[]): FolderSignature {
  if (scratch.length < children.length * RECORD) scratch = new Float64Array(children.length * RECORD * 2);
  let newest = 0;
  children.forEach(({ stats: s, dir }, i) => {
    const at = i * RECORD;
    scratch[at] = dir ? 1 : 2;
    scratch[at + 1] = s!.ino;
    scratch[at + 2] = dir ? 0 : s!.size;
    scratch[at + 3] = s!.mtimeMs;
    scratch[at + 4] = dir ? 0 : s!.mode;
    if (s!.mtimeMs > newest) newest = s!.mtimeMs;
  });
  const digest = createHash('sha256').update(new Uint8Array(scratch.buffer, 0, children.length * RECORD * 8)).digest('base64').slice(0, 22);
  return { digest, newest };
}

/**
 * One signature for a whole directory tree: a sha256 over the top folder's own record and
 * every folder's digest in walk order, prefixed with the newest mtime seen (`T<mtimeNs>:<sha>`).
 * The no-op check re-walks a million-file dep at little more than a stat per file and compares
 * one string per directory dep; when that differs, the per-folder digests (kept up to
 * MAX_FOLDERS) say which folders are still as they were, and a run re-stats only the others.
 */
export class TreeSignature {
  private readonly hash = createHash('sha256');
  private newest: number;
  folders: FolderSignatures | undefined = new Map();

  constructor(root: FileStat) {
    this.hash.update(new Uint8Array(new Float64Array([1, root.ino, 0, root.mtimeMs, 0]).buffer));
    this.newest = root.mtimeMs;
  }

  folder(inner: string, signature: FolderSignature): void {
    this.hash.update(signature.digest);
    if (signature.newest > this.newest) this.newest = signature.newest;
    if (!this.folders) return;
    if (this.folders.size >= MAX_FOLDERS) this.folders = undefined;
    else this.folders.set(inner, signature);
  }

  digest(): string {
    return `T${BigInt(Math.ceil(this.newest * 1e6))}:${this.hash.digest('hex')}`;
  }

  /** The newest mtime in the tree (ms). */
  get newestMs(): number {
    return this.newest;
  }
}

/** A bigint stat as the numbers a plain stat of the same file gives. */
export function treeStat(s: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'mode'>): FileStat {
  return { ino: Number(s.ino), size: Number(s.size), mtimeMs: msOf(s.mtimeNs), mode: Number(s.mode) };
}

/**
 * A file found by `walkTree`: its path inside the walked directory, and its stat; no stat when
 * its folder was trusted (still as the no-op summary has it): its hash is the stat cache's.
 */
export interface WalkedFile {
  inner: string;
  stats?: FileStat;
}

/**
 * Every file under `abs` (following symlinks, as the manifest does), in manifest order: the
 * children of each directory sorted by name, a directory's as `name/`, which orders the whole
 * walk exactly as sorting the full paths would (`a.b` < `a/x` < `a0`), so a manifest can be
 * hashed as the walk goes. Signs each folder into `tree`; a folder in `trusted` is listed, not
 * statted, and signed with its trusted signature. Only one folder's listing is held at a time.
 */
export function* walkTree(abs: string, tree: TreeSignature, trusted?: FolderSignatures, inner = ''): Generator<WalkedFile> {
  const known = trusted?.get(inner);
  const children = known ? listedChildren(abs) : sortedChildren(abs);
  tree.folder(inner, known ?? signFolder(children));
  for (const { name, stats, dir } of children) {
    const childInner = inner ? `${inner}/${name}` : name;
    if (dir) yield* walkTree(`${abs}/${name}`, tree, trusted, childInner);
    else yield stats ? { inner: childInner, stats: { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode } } : { inner: childInner };
  }
}

const MISSING_IS_UNDEFINED = { throwIfNoEntry: false } as const;

interface Child {
  key: string;
  name: string;
  /** Absent for a file of a trusted folder. */
  stats?: Stats;
  dir: boolean;
}

const byKey = (a: Child, b: Child) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The files and folders directly in `abs`, in manifest order (see `walkTree`). */
function sortedChildren(abs: string): Child[] {
  const children: Child[] = [];
  for (const name of readdirSync(abs)) {
    const stats = statSync(`${abs}/${name}`, MISSING_IS_UNDEFINED);
    if (!stats) continue;
    if (stats.isDirectory()) children.push({ key: `${name}/`, name, stats, dir: true });
    else if (stats.isFile()) children.push({ key: name, name, stats, dir: false });
  }
  return children.sort(byKey);
}

/** As `sortedChildren`, for a trusted folder: the listing's types instead of a stat (symlinks still resolved). */
function listedChildren(abs: string): Child[] {
  const children: Child[] = [];
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const name = entry.name;
    if (entry.isDirectory()) children.push({ key: `${name}/`, name, dir: true });
    else if (entry.isFile()) children.push({ key: name, name, dir: false });
    else if (entry.isSymbolicLink()) {
      const stats = statSync(`${abs}/${name}`, MISSING_IS_UNDEFINED);
      if (stats?.isDirectory()) children.push({ key: `${name}/`, name, dir: true });
      else if (stats?.isFile()) children.push({ key: name, name, stats, dir: false });
    }
  }
  return children.sort(byKey);
}

/** Where `signTree` puts each folder's signature, in walk order. */
export interface FolderSink {
  folder(inner: string, signature: FolderSignature): void;
}

/** `walkTree` without the files: the no-op check's whole job for a directory dep. */
export function signTree(abs: string, sink: FolderSink, inner = ''): void {
  const children = sortedChildren(abs);
  sink.folder(inner, signFolder(children));
  for (const { name, dir } of children) if (dir) signTree(`${abs}/${name}`, sink, inner ? `${inner}/${name}` : name);
}

export type TreeState = { sig: string; folders: FolderSignatures | undefined } | undefined;

/** The tree signature of `abs` now, and its folders' (undefined when it is no longer a directory). */
export function treeSignatureOf(abs: string): TreeState {
  const stats = statSync(abs, MISSING_IS_UNDEFINED);
  if (!stats?.isDirectory()) return undefined;
  const tree = new TreeSignature(stats);
  signTree(abs, tree);
  return { sig: tree.digest(), folders: tree.folders };
}

/**
 * As `treeSignatureOf`, the top folder's subfolders split among `threads` worker threads in
 * contiguous runs (walk order is kept: each run's folders come back in order). For a dep of
 * hundreds of thousands of files: stat calls are most of a no-op, and they run on every core.
 */
export async function treeSignatureInParallel(abs: string, threads: number): Promise<TreeState> {
  const stats = statSync(abs, MISSING_IS_UNDEFINED);
  if (!stats?.isDirectory()) return undefined;
  const tree = new TreeSignature(stats);
  const children = sortedChildren(abs);
  tree.folder('', signFolder(children));
  const dirs = children.filter((c) => c.dir).map((c) => c.name);
  const size = Math.ceil(dirs.length / threads);
  const runs = Array.from({ length: Math.ceil(dirs.length / size) }, (_, i) => dirs.slice(i * size, (i + 1) * size));
  const { Worker } = await import('node:worker_threads');
  const signed = await Promise.all(
    runs.map(
      (names) =>
        new Promise<[string, string, number][]>((resolve, reject) => {
          const worker = new Worker(new URL('./tree-sign-worker.js', import.meta.url), { workerData: { abs, names } });
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => code !== 0 && reject(new Error(`a folder-signing thread exited with code ${code}`)));
        }),
    ),
  );
  for (const run of signed) for (const [inner, digest, newest] of run) tree.folder(inner, { digest, newest });
  return { sig: tree.digest(), folders: tree.folders };
}
