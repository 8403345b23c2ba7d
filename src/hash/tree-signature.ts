import { createHash } from 'node:crypto';
import { readdirSync, statSync, type BigIntStats, type Stats } from 'node:fs';

// Signatures say whether a path changed without reading it. Node built-ins only: the no-op
// check loads this before anything else of pipeline's, and its start-up is part of every no-op.

/** What identifies a file's version without reading it. */
export function fileSignature(stats: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'mode'>): string {
  return `f${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.mode}`;
}

/** A directory's mtime changes when entries are added, removed or renamed. */
export function dirSignature(stats: Pick<BigIntStats, 'ino' | 'mtimeNs'>): string {
  return `d${stats.ino}:${stats.mtimeNs}`;
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
const RECORDS = 4096;

/**
 * One signature for a whole directory tree: a sha256 over (kind, inode, size, mtime, mode) of
 * every directory and file in it, in walk order, prefixed with the newest mtime seen
 * (`T<mtimeNs>:<sha>`). Names need not be in it: adding, removing or renaming an entry
 * changes its directory's mtime, and editing a file its own. Records are packed as doubles,
 * no strings: the no-op check re-walks a million-file dep at little more than a stat per file,
 * and compares one string per directory dep instead of a million entries.
 */
export class TreeSignature {
  private readonly hash = createHash('sha256');
  /** Grows to RECORDS: a sweep signs hundreds of small folders, a dataset one huge one. */
  private records = new Float64Array(RECORD * 16);
  private used = 0;
  private newest = 0;

  constructor(root: FileStat) {
    this.add(true, root);
  }

  add(dir: boolean, s: FileStat): void {
    const at = this.used * RECORD;
    if (at === this.records.length) {
      const grown = new Float64Array(this.records.length * 4);
      grown.set(this.records);
      this.records = grown;
    }
    const r = this.records;
    r[at] = dir ? 1 : 2;
    r[at + 1] = s.ino;
    r[at + 2] = dir ? 0 : s.size;
    r[at + 3] = s.mtimeMs;
    r[at + 4] = dir ? 0 : s.mode;
    if (s.mtimeMs > this.newest) this.newest = s.mtimeMs;
    if (++this.used === RECORDS) this.drain();
  }

  digest(): string {
    this.drain();
    return `T${BigInt(Math.ceil(this.newest * 1e6))}:${this.hash.digest('hex')}`;
  }

  private drain(): void {
    this.hash.update(new Uint8Array(this.records.buffer, 0, this.used * RECORD * 8));
    this.used = 0;
  }
}

/** A bigint stat as the numbers a plain stat of the same file gives. */
export function treeStat(s: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'mode'>): FileStat {
  return { ino: Number(s.ino), size: Number(s.size), mtimeMs: msOf(s.mtimeNs), mode: Number(s.mode) };
}

/** A file found by `walkTree`: its path inside the walked directory, and its stat. */
export interface WalkedFile {
  inner: string;
  stats: FileStat;
}

/**
 * Every file under `abs` (following symlinks, as the manifest does), in manifest order: the
 * children of each directory sorted by name, a directory's as `name/`, which orders the whole
 * walk exactly as sorting the full paths would (`a.b` < `a/x` < `a0`), so a manifest can be
 * hashed as the walk goes. Feeds `tree` with every file's and subdirectory's signature. Only
 * one directory's listing is held at a time.
 */
export function* walkTree(abs: string, tree: TreeSignature, inner = ''): Generator<WalkedFile> {
  for (const { name, stats, dir } of sortedChildren(abs)) {
    const childInner = inner ? `${inner}/${name}` : name;
    if (dir) {
      tree.add(true, stats);
      yield* walkTree(`${abs}/${name}`, tree, childInner);
    } else {
      tree.add(false, stats);
      yield { inner: childInner, stats: { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode } };
    }
  }
}

const MISSING_IS_UNDEFINED = { throwIfNoEntry: false } as const;

interface Child {
  key: string;
  name: string;
  stats: Stats;
  dir: boolean;
}

/** The files and folders directly in `abs`, in manifest order (see `walkTree`). */
function sortedChildren(abs: string): Child[] {
  const children: Child[] = [];
  for (const name of readdirSync(abs)) {
    const stats = statSync(`${abs}/${name}`, MISSING_IS_UNDEFINED);
    if (!stats) continue;
    if (stats.isDirectory()) children.push({ key: `${name}/`, name, stats, dir: true });
    else if (stats.isFile()) children.push({ key: name, name, stats, dir: false });
  }
  return children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** `walkTree` without the files: the no-op check's whole job for a directory dep. */
function signTree(abs: string, tree: TreeSignature): void {
  for (const { name, stats, dir } of sortedChildren(abs)) {
    tree.add(dir, stats);
    if (dir) signTree(`${abs}/${name}`, tree);
  }
}

/** The tree signature of `abs` now (undefined when it is no longer a directory): `walkTree`'s, files unused. */
export function treeSignatureOf(abs: string): string | undefined {
  const stats = statSync(abs, { throwIfNoEntry: false });
  if (!stats?.isDirectory()) return undefined;
  const tree = new TreeSignature(stats);
  signTree(abs, tree);
  return tree.digest();
}
