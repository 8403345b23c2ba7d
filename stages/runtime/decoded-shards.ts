/**
 * Decoded images, kept once per (file, size, fit) as raw uint8 RGB in append-only shard files,
 * shared by every experiment and fold that trains in this clone. A training process never
 * holds the data set: it reads the images of each batch from here (page cache, then disk).
 *
 * Where: the train stage's cache directory (`.pipeline/stage-cache/train/shards/`), a per-clone
 * memo like `images`' per-item memo, not an out. Shards are pure derivatives of inputs the
 * cache already keeps, several times the size of the compressed images they come from, and
 * cheaper to rebuild than to transfer; so they are not pushed to remotes, and deleting them
 * only costs a rebuild.
 *
 * Layout of `<size>px-<fit>/`: `index.json` maps an image's stat signature (absolute path,
 * size, mtime, inode: the engine's own test for "unchanged") to its [shard, slot]; each shard
 * file holds images back to back, size*size*3 bytes each. Shards are immutable once the index
 * names them; a build appends one new shard, fsyncs it, then replaces the index atomically,
 * under a lock directory (two folds starting together decode once). A kill mid-build leaves
 * an unnamed shard file and a stale lock, both ignored by the next build.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { processAlive } from '../../src/run/project-lock.js';

export type Fit = 'fill' | 'letterbox';

/** Bump when the decoded bytes for the same file would change (resize kernel, colour handling). */
const FORMAT = 1;
/** Images decoded at once while building: bounds the build's memory. */
const DECODE_BATCH = 64;

interface ShardIndex extends ShardedIndex {
  format: number;
  size: number;
  fit: Fit;
  shards: string[];
  slots: Record<string, [number, number]>;
}

/** Where one decoded image lies. */
export interface ImageLocation {
  file: string;
  offset: number;
}

/**
 * Decodes and resizes one image as every trainer sees it: `fill` stretches to the square,
 * `letterbox` pads to square first (black), bicubic, alpha dropped.
 */
export async function decodeImage(file: string, size: number, fit: Fit): Promise<Buffer> {
  const { data } = await sharp(file)
    .removeAlpha()
    .resize(size, size, { fit: fit === 'fill' ? 'fill' : 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

export function fileSignature(file: string): string {
  const st = statSync(file);
  return `${file}\u0000${st.size}\u0000${st.mtimeMs}\u0000${st.ino}`;
}

function readIndex(file: string, size: number, fit: Fit): ShardIndex {
  try {
    const index = JSON.parse(readFileSync(file, 'utf8')) as ShardIndex;
    if (index.format === FORMAT && index.size === size && index.fit === fit) return index;
  } catch {
    // Missing or unreadable: start over (the old shards are then unreferenced).
  }
  return { format: FORMAT, size, fit, shards: [], slots: {} };
}

/** A lock directory holding its owner's pid; a dead owner's lock is taken over. */
async function withLock<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'lock');
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        // Just created, pid not written yet: wait.
      }
      if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await f();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** An index of append-only shards: key -> [shard, slot]. */
export interface ShardedIndex {
  shards: string[];
  slots: Record<string, [number, number]>;
}

/**
 * Under `dir`'s lock, appends one shard holding what `produce` makes for the keys the index
 * lacks (`batch` keys a call, slots in order), fsyncs it, then names it in the index atomically:
 * a kill before that leaves an unnamed shard, which nothing reads.
 */
export async function appendShard<I extends ShardedIndex>(
  dir: string,
  indexFile: string,
  read: () => I,
  keys: readonly string[],
  extension: string,
  batch: number,
  produce: (chunk: string[]) => Promise<Uint8Array>,
  progress?: ShardProgress,
): Promise<{ index: I; added: number }> {
  return withLock(dir, async () => {
    const current = read();
    const wanted = [...new Set(keys.filter((k) => !current.slots[k]))];
    if (wanted.length === 0) return { index: current, added: 0 };
    const name = `${Date.now().toString(36)}-${process.pid}${extension}`;
    const fd = openSync(path.join(dir, name), 'w');
    const shard = current.shards.length;
    try {
      for (let start = 0; start < wanted.length; start += batch) {
        const chunk = wanted.slice(start, start + batch);
        writeSync(fd, await produce(chunk));
        chunk.forEach((k, i) => (current.slots[k] = [shard, start + i]));
        progress?.(Math.min(start + batch, wanted.length), wanted.length);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    current.shards.push(name);
    writeFileAtomic(indexFile, JSON.stringify(current), true);
    return { index: current, added: wanted.length };
  });
}

export interface ShardProgress {
  (done: number, total: number): void;
}

/**
 * The locations of `files` decoded at `size` px with `fit`, decoding (once, for every process
 * of this clone) those not yet in the shards under `root`.
 */
export async function decodedImages(root: string, files: readonly string[], size: number, fit: Fit, progress?: ShardProgress): Promise<{ locations: ImageLocation[]; decoded: number }> {
  const dir = path.join(root, `${size}px-${fit}`);
  mkdirSync(dir, { recursive: true });
  const indexFile = path.join(dir, 'index.json');
  const signatures = files.map(fileSignature);
  let index = readIndex(indexFile, size, fit);
  let decoded = 0;
  if (signatures.some((s) => !index.slots[s])) {
    const byFile = new Map(signatures.map((s, i) => [s, files[i]!]));
    ({ index, added: decoded } = await appendShard(dir, indexFile, () => readIndex(indexFile, size, fit), signatures, '.u8', DECODE_BATCH, async (chunk) => Buffer.concat(await Promise.all(chunk.map((s) => decodeImage(byFile.get(s)!, size, fit)))), progress));
  }
  const bytes = size * size * 3;
  const locations = signatures.map((s) => {
    const [shard, slot] = index.slots[s]!;
    return { file: path.join(dir, index.shards[shard]!), offset: slot * bytes };
  });
  return { locations, decoded };
}

/** Reads decoded images into `out` (uint8, one after another); keeps its files open until close(). */
export class ShardReader {
  private readonly fds = new Map<string, number>();

  constructor(private readonly bytesPerImage: number) {}

  read(location: ImageLocation, out: Uint8Array, at = 0): void {
    let fd = this.fds.get(location.file);
    if (fd === undefined) {
      fd = openSync(location.file, 'r');
      this.fds.set(location.file, fd);
    }
    const n = readSync(fd, out, at, this.bytesPerImage, location.offset);
    if (n !== this.bytesPerImage) throw new Error(`${location.file}: short read at ${location.offset} (${n} of ${this.bytesPerImage} bytes): the shard is damaged; delete ${path.dirname(location.file)} to rebuild it`);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
