import { readFileSync } from 'node:fs';
import { isDiskFull } from '../disk-full.js';
import { writeChunksAtomic } from '../fs-atomic.js';
import type { FileStat } from './tree-signature.js';

/**
 * `ino:size:mtime_ms` as one string, `:x` after it for an executable file (a directory's
 * manifest records the bit, and a trusted folder's files are not statted). mtimeMs is a double
 * (sub-microsecond steps for today's dates); files modified within the racy window are never
 * cached, so two versions of a file could only share a signature if rewritten at the same
 * size within that step, long after.
 */
function signature(s: FileStat): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}${s.mode & 0o111 ? ':x' : ''}`;
}

const TAB = 9;
const SLASH = 47;
const NEWLINE = 10;
/** Bytes per chunk of the log of entries set during this command. */
const CHUNK_BYTES = 1 << 22;

/** FNV-1a over a path's UTF-8 bytes. */
function hashBytes(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** Where the path starts in the line at `start` (after the second tab). */
function pathStart(buf: Buffer, start: number): number {
  return buf.indexOf(TAB, buf.indexOf(TAB, start) + 1) + 1;
}

/**
 * Lines `signature TAB sha256 TAB path NEWLINE` in Buffers (the loaded file, then 4 MB chunks
 * for entries set during this command), found through an open-addressing index of their
 * positions: no JavaScript string or object per path (a million of those cost more in garbage
 * collection than the walk itself).
 */
class LineTable {
  /** The loaded file: positions [0, base.length). */
  private readonly base: Buffer;
  /** Where the log chunks' positions start (the base rounded up to a chunk). */
  private readonly logStart: number;
  private readonly log: Buffer[] = [];
  private logUsed = CHUNK_BYTES;
  /** Position + 1 of each line (0: empty, -1: deleted). */
  private slots = new Int32Array(1024);
  private used = 0;

  constructor(base: Buffer) {
    this.base = base;
    this.logStart = Math.ceil(base.length / CHUNK_BYTES) * CHUNK_BYTES;
    let lines = 0;
    for (let i = base.indexOf(NEWLINE); i >= 0; i = base.indexOf(NEWLINE, i + 1)) lines++;
    this.grow(lines);
    let start = 0;
    while (start < base.length) {
      let end = base.indexOf(NEWLINE, start);
      if (end < 0) end = base.length;
      const tab1 = base.indexOf(TAB, start);
      const tab2 = tab1 < 0 ? -1 : base.indexOf(TAB, tab1 + 1);
      if (tab2 > 0 && tab2 < end) this.insert(start, base, tab2 + 1, end);
      start = end + 1;
    }
  }

  /** The buffer holding a position, and the offset in it. */
  locate(position: number): [Buffer, number] {
    if (position < this.logStart) return [this.base, position];
    const inLog = position - this.logStart;
    return [this.log[Math.floor(inLog / CHUNK_BYTES)]!, inLog % CHUNK_BYTES];
  }

  /** The position of `rel`'s line, or -1. */
  find(rel: Buffer): number {
    const mask = this.slots.length - 1;
    for (let i = hashBytes(rel, 0, rel.length) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      if (slot > 0 && this.pathEquals(slot - 1, rel)) return slot - 1;
    }
  }

  /** Adds (or replaces) `rel`'s line; 'full' when the table is full (2 GB of lines). */
  add(line: Buffer, rel: Buffer): 'added' | 'replaced' | 'full' {
    if (line.length > CHUNK_BYTES) return 'full';
    if (this.logUsed + line.length > CHUNK_BYTES) {
      if (this.logStart + (this.log.length + 1) * CHUNK_BYTES >= 0x7ffffffe) return 'full';
      this.log.push(Buffer.allocUnsafe(CHUNK_BYTES));
      this.logUsed = 0;
    }
    const chunk = this.log[this.log.length - 1]!;
    const offset = this.logUsed;
    line.copy(chunk, offset);
    this.logUsed += line.length;
    const replaced = this.remove(rel);
    this.grow(this.used + 1);
    const relStart = offset + line.length - 1 - rel.length;
    this.insert(this.logStart + (this.log.length - 1) * CHUNK_BYTES + offset, chunk, relStart, offset + line.length - 1);
    return replaced ? 'replaced' : 'added';
  }

  remove(rel: Buffer): boolean {
    const mask = this.slots.length - 1;
    for (let i = hashBytes(rel, 0, rel.length) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return false;
      if (slot > 0 && this.pathEquals(slot - 1, rel)) {
        this.slots[i] = -1;
        return true;
      }
    }
  }

  /** Every live line: its buffer, start, and end (the newline's offset). */
  *lines(): Generator<[Buffer, number, number]> {
    for (const slot of this.slots) {
      if (slot <= 0) continue;
      const [buf, start] = this.locate(slot - 1);
      yield [buf, start, buf.indexOf(NEWLINE, start)];
    }
  }

  private pathEquals(position: number, rel: Buffer): boolean {
    const [buf, start] = this.locate(position);
    const relStart = pathStart(buf, start);
    const end = relStart + rel.length;
    return buf[end] === NEWLINE && buf.compare(rel, 0, rel.length, relStart, end) === 0;
  }

  private insert(position: number, buf: Buffer, relStart: number, relEnd: number): void {
    const mask = this.slots.length - 1;
    let i = hashBytes(buf, relStart, relEnd) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = position + 1;
    this.used++;
  }

  /** Keeps the table at most half full; deleted slots count until a rebuild drops them. */
  private grow(entries: number): void {
    if (entries * 2 <= this.slots.length) return;
    const old = this.slots;
    let size = this.slots.length;
    while (entries * 2 > size) size *= 2;
    this.slots = new Int32Array(size);
    this.used = 0;
    for (const slot of old) {
      if (slot <= 0) continue;
      const [buf, start] = this.locate(slot - 1);
      const relStart = pathStart(buf, start);
      this.insert(slot - 1, buf, relStart, buf.indexOf(NEWLINE, relStart));
    }
  }
}

/**
 * Remembers (inode, size, mtime) -> sha256 per project-relative path, so a no-op run costs
 * a stat per file instead of a read. Persisted per project (not in the shareable cache: inode
 * numbers mean nothing in another clone). Losing it only costs re-hashing.
 *
 * On disk one line per path, `signature TAB sha256 TAB path`; in memory the same bytes and an
 * index (see LineTable), so a million-file dataset costs its file's size, not a million
 * objects. A path with a newline in its name is not remembered (it is re-hashed instead).
 */
export class StatCache {
  private readonly table: LineTable;
  private dirty = false;
  /** Recorded paths per parent folder: built on the first `countInside`, kept current after. */
  private folders?: Map<string, number>;
  private scratch = Buffer.allocUnsafe(4096);

  constructor(private readonly file: string) {
    let data: Buffer | undefined;
    try {
      data = readFileSync(file);
    } catch {
      // Missing: start empty; it is only an accelerator.
    }
    // A last line without its newline (a torn write cannot happen: the file is renamed into place) is dropped.
    const end = data ? data.lastIndexOf(NEWLINE) + 1 : 0;
    this.table = new LineTable(data && end > 0 ? data.subarray(0, end) : Buffer.alloc(0));
  }

  /** `rel`'s bytes in a buffer reused by every lookup (a lookup per file of a million-file walk). */
  private key(rel: string): Buffer {
    if (this.scratch.length < rel.length * 3) this.scratch = Buffer.allocUnsafe(rel.length * 3);
    return this.scratch.subarray(0, this.scratch.write(rel));
  }

  get(rel: string, stats: FileStat): string | undefined {
    const at = this.table.find(this.key(rel));
    if (at < 0) return undefined;
    const [buf, start] = this.table.locate(at);
    const sig = signature(stats);
    // Compared in place, byte by byte: no string per lookup.
    if (buf[start + sig.length] !== TAB) return undefined;
    for (let i = 0; i < sig.length; i++) if (buf[start + i] !== sig.charCodeAt(i)) return undefined;
    const hashStart = start + sig.length + 1;
    return buf.toString('latin1', hashStart, buf.indexOf(TAB, hashStart));
  }

  /**
   * The hash and executable bit last recorded for `rel`, without its signature checked: only
   * for a file whose folder the no-op check found exactly as when the summary (written only
   * after this cache was saved) was written.
   */
  recorded(rel: string): { hash: string; exec: boolean } | undefined {
    const at = this.table.find(this.key(rel));
    if (at < 0) return undefined;
    const [buf, start] = this.table.locate(at);
    const tab = buf.indexOf(TAB, start);
    return { hash: buf.toString('latin1', tab + 1, buf.indexOf(TAB, tab + 1)), exec: buf[tab - 1] === 120 /* x */ && buf[tab - 2] === 58 /* : */ };
  }

  /** The hash last recorded for `rel`, whatever its signature now: what it was, to say what changed. */
  previous(rel: string): string | undefined {
    return this.recorded(rel)?.hash;
  }

  /**
   * How many recorded paths lie inside directory `dir`, at any depth. A sum over folders, not
   * a scan of every line: a run hashes every directory dep, and a sweep has hundreds.
   */
  countInside(dir: string): number {
    const prefix = `${dir}/`;
    let n = 0;
    for (const [folder, count] of this.folderCounts()) if (folder === dir || folder.startsWith(prefix)) n += count;
    return n;
  }

  /** One pass over the lines; a folder's name is decoded once, found again by its bytes' hash. */
  private folderCounts(): Map<string, number> {
    if (this.folders) return this.folders;
    const byHash = new Map<number, { bytes: Buffer; name: string }[]>();
    const counts = new Map<string, number>();
    for (const [buf, start, end] of this.table.lines()) {
      const relStart = pathStart(buf, start);
      const slash = buf.lastIndexOf(SLASH, end);
      const folderEnd = slash >= relStart ? slash : relStart;
      const h = hashBytes(buf, relStart, folderEnd);
      let known = byHash.get(h);
      let folder = known?.find((k) => k.bytes.length === folderEnd - relStart && buf.compare(k.bytes, 0, k.bytes.length, relStart, folderEnd) === 0);
      if (!folder) {
        folder = { bytes: Buffer.from(buf.subarray(relStart, folderEnd)), name: buf.toString('utf8', relStart, folderEnd) };
        if (!known) byHash.set(h, (known = []));
        known.push(folder);
      }
      counts.set(folder.name, (counts.get(folder.name) ?? 0) + 1);
    }
    return (this.folders = counts);
  }

  private countFolder(rel: string, by: 1 | -1): void {
    if (!this.folders) return;
    const slash = rel.lastIndexOf('/');
    const folder = slash < 0 ? '' : rel.slice(0, slash);
    this.folders.set(folder, (this.folders.get(folder) ?? 0) + by);
  }

  /** The recorded paths inside directory `dir`, at any depth. */
  *inside(dir: string): Generator<string> {
    const prefix = Buffer.from(`${dir}/`);
    for (const [buf, start, end] of this.table.lines()) {
      const relStart = pathStart(buf, start);
      if (end - relStart > prefix.length && buf.compare(prefix, 0, prefix.length, relStart, relStart + prefix.length) === 0) yield buf.toString('utf8', relStart, end);
    }
  }

  delete(rel: string): void {
    if (!this.table.remove(Buffer.from(rel))) return;
    this.dirty = true;
    this.countFolder(rel, -1);
  }

  set(rel: string, stats: FileStat, hash: string): void {
    if (rel.includes('\n')) return;
    const path = Buffer.from(rel);
    const added = this.table.add(Buffer.from(`${signature(stats)}\t${hash}\t${rel}\n`), path);
    if (added !== 'full') {
      this.dirty = true;
      if (added === 'added') this.countFolder(rel, 1);
    }
    // A full table (2 GB of lines): forget any older entry rather than keep a stale one.
    else if (this.table.remove(path)) {
      this.dirty = true;
      this.countFolder(rel, -1);
    }
  }

  /** False when a full disk kept it from being written (it is only an accelerator). */
  save(): boolean {
    if (!this.dirty) return true;
    const table = this.table;
    function* pieces(): Generator<Buffer> {
      const out = Buffer.allocUnsafe(1 << 20);
      let used = 0;
      for (const [buf, start, end] of table.lines()) {
        const length = end - start + 1;
        if (used + length > out.length) {
          yield Buffer.from(out.subarray(0, used));
          used = 0;
        }
        buf.copy(out, used, start, end);
        out[used + length - 1] = NEWLINE;
        used += length;
      }
      if (used > 0) yield Buffer.from(out.subarray(0, used));
    }
    try {
      writeChunksAtomic(this.file, pieces());
      this.dirty = false;
      return true;
    } catch (error) {
      // Only an accelerator: on a full disk the next command re-hashes what it cannot skip.
      if (!isDiskFull(error)) throw error;
      return false;
    }
  }
}
