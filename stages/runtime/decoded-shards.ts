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
 * names them; a build appends new shards, fsyncs each, then replaces the index atomically,
 * under a lock directory (two folds starting together split the decoding: see appendShard). A kill mid-build leaves
 * an unnamed shard file and a stale lock, both ignored by the next build.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
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

/** Keys a process claims at a time: few enough that processes wanting the same keys share the work. */
const CLAIM = 256;
let claims = 0;

/** The keys live processes have claimed (`claim-<pid>-<n>.json`); a dead or unreadable claim is removed. */
function liveClaims(dir: string): Set<string> {
  const claimed = new Set<string>();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('claim-')) continue;
    const file = path.join(dir, name);
    try {
      const claim = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; keys: string[] };
      if (processAlive(claim.pid)) {
        claim.keys.forEach((k) => claimed.add(k));
        continue;
      }
    } catch {
      // Unreadable: its writer died mid-write.
    }
    rmSync(file, { force: true });
  }
  return claimed;
}

/**
 * Makes what `produce` makes for the keys the index lacks (`batch` keys a call), shared with
 * every process that wants them at the same time: under `dir`'s lock a process claims the next
 * keys that no shard holds and no live process has claimed, then produces them into a shard of
 * its own outside the lock, fsyncs it and names it in the index atomically (a kill before that
 * leaves an unnamed shard, which nothing reads, and a dead claim, which the next one drops).
 * Two folds starting together each embed half the images, then read them all. Keys claimed by
 * another live process are waited for.
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
  claimSize = CLAIM,
): Promise<{ index: I; added: number }> {
  const unique = [...new Set(keys)];
  let total = -1;
  let added = 0;
  for (;;) {
    const step = await withLock(dir, async () => {
      const current = read();
      const missing = unique.filter((k) => !current.slots[k]);
      if (total < 0) total = missing.length;
      if (missing.length === 0) return { kind: 'done' as const, index: current };
      const claimed = liveClaims(dir);
      const mine = missing.filter((k) => !claimed.has(k)).slice(0, claimSize);
      if (mine.length === 0) return { kind: 'wait' as const };
      const claim = path.join(dir, `claim-${process.pid}-${claims++}.json`);
      writeFileSync(claim, JSON.stringify({ pid: process.pid, keys: mine }));
      return { kind: 'claimed' as const, missing: missing.length, mine, claim };
    });
    if (step.kind === 'done') return { index: step.index, added };
    if (step.kind === 'wait') {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const { mine, claim } = step;
    try {
      const name = `${Date.now().toString(36)}-${process.pid}-${claims}${extension}`;
      const fd = openSync(path.join(dir, name), 'w');
      try {
        for (let start = 0; start < mine.length; start += batch) {
          writeSync(fd, await produce(mine.slice(start, start + batch)));
          progress?.(total - step.missing + Math.min(start + batch, mine.length), total);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      await withLock(dir, async () => {
        const current = read();
        const shard = current.shards.length;
        current.shards.push(name);
        mine.forEach((k, slot) => (current.slots[k] ??= [shard, slot]));
        writeFileAtomic(indexFile, JSON.stringify(current), true);
      });
      added += mine.length;
    } finally {
      rmSync(claim, { force: true });
    }
  }
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
