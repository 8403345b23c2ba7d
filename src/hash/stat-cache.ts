import { readFileSync } from 'node:fs';
import { isDiskFull } from '../disk-full.js';
import { writeChunksAtomic } from '../fs-atomic.js';
import type { FileStat } from './content-hasher.js';

/**
 * `ino:size:mtime_ms` as one string. mtimeMs is a double (sub-microsecond steps for today's
 * dates); files modified within the racy window are never cached, so two versions of a file
 * could only share a signature if rewritten at the same size within that step, long after.
 */
function signature(s: FileStat): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

const TAB = 9;
const NEWLINE = 10;

/**
 * Remembers (inode, size, mtime) -> sha256 per project-relative path, so a no-op run costs
 * a stat per file instead of a read. Persisted per project (not in the shareable cache: inode
 * numbers mean nothing in another clone). Losing it only costs re-hashing.
 *
 * On disk one line per path, `signature TAB sha256 TAB path`, read and written a line at a
 * time: a million-file dataset's cache is never one JSON document in memory. A path with a
 * newline in its name is not remembered (it is re-hashed instead).
 */
export class StatCache {
  /** rel -> `signature TAB sha256`: one string per path. */
  private entries = new Map<string, string>();
  private dirty = false;

  constructor(private readonly file: string) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      return; // Missing: start empty; it is only an accelerator.
    }
    let start = 0;
    while (start < data.length) {
      let end = data.indexOf(NEWLINE, start);
      if (end < 0) end = data.length;
      const tab1 = data.indexOf(TAB, start);
      const tab2 = tab1 < 0 ? -1 : data.indexOf(TAB, tab1 + 1);
      // Fresh strings per field (a slice of one big string would keep all of it alive).
      if (tab2 > 0 && tab2 < end) this.entries.set(data.toString('utf8', tab2 + 1, end), data.toString('latin1', start, tab2));
      start = end + 1;
    }
  }

  get(rel: string, stats: FileStat): string | undefined {
    const entry = this.entries.get(rel);
    if (!entry) return undefined;
    const sig = signature(stats);
    // Compared in place: a slice per lookup is a million short-lived strings for the collector.
    return entry.charCodeAt(sig.length) === TAB && entry.startsWith(sig) ? entry.slice(sig.length + 1) : undefined;
  }

  /** The hash last recorded for `rel`, whatever its signature now: what it was, to say what changed. */
  previous(rel: string): string | undefined {
    const entry = this.entries.get(rel);
    return entry && entry.slice(entry.indexOf('\t') + 1);
  }

  /** The recorded paths inside directory `dir`, at any depth. */
  *inside(dir: string): Generator<string> {
    const prefix = `${dir}/`;
    for (const rel of this.entries.keys()) if (rel.startsWith(prefix)) yield rel;
  }

  delete(rel: string): void {
    if (this.entries.delete(rel)) this.dirty = true;
  }

  set(rel: string, stats: FileStat, hash: string): void {
    if (rel.includes('\n')) return;
    this.entries.set(rel, `${signature(stats)}\t${hash}`);
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    const entries = this.entries;
    function* lines(): Generator<string> {
      let chunk = '';
      for (const [rel, value] of entries) {
        chunk += `${value}\t${rel}\n`;
        if (chunk.length > 1 << 20) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    try {
      writeChunksAtomic(this.file, lines());
      this.dirty = false;
    } catch (error) {
      // Only an accelerator: on a full disk the next command re-hashes what it cannot skip.
      if (!isDiskFull(error)) throw error;
    }
  }
}
