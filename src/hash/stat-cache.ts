import { readFileSync } from 'node:fs';
import { isDiskFull } from '../disk-full.js';
import { writeFileAtomic } from '../fs-atomic.js';

/** `ino:size:mtime_ns` as one string: cheaper to load and compare than three bigints. */
function signature(ino: bigint, size: bigint, mtimeNs: bigint): string {
  return `${ino}:${size}:${mtimeNs}`;
}

/**
 * Remembers (inode, size, mtime_ns) -> sha256 per project-relative path, so a no-op run costs
 * a stat per file instead of a read. Persisted per project (not in the shareable cache: inode
 * numbers mean nothing in another clone). Losing it only costs re-hashing.
 */
export class StatCache {
  private entries = new Map<string, [signature: string, hash: string]>();
  private dirty = false;

  constructor(private readonly file: string) {
    try {
      const rows = JSON.parse(readFileSync(file, 'utf8')) as [string, string, string][];
      for (const [rel, sig, hash] of rows) this.entries.set(rel, [sig, hash]);
    } catch {
      // Missing or unreadable: start empty; it is only an accelerator.
    }
  }

  get(rel: string, ino: bigint, size: bigint, mtimeNs: bigint): string | undefined {
    const entry = this.entries.get(rel);
    return entry && entry[0] === signature(ino, size, mtimeNs) ? entry[1] : undefined;
  }

  /** The hash last recorded for `rel`, whatever its signature now: what it was, to say what changed. */
  previous(rel: string): string | undefined {
    return this.entries.get(rel)?.[1];
  }

  /** The recorded paths inside directory `dir`, at any depth. */
  *inside(dir: string): Generator<string> {
    const prefix = `${dir}/`;
    for (const rel of this.entries.keys()) if (rel.startsWith(prefix)) yield rel;
  }

  delete(rel: string): void {
    if (this.entries.delete(rel)) this.dirty = true;
  }

  set(rel: string, ino: bigint, size: bigint, mtimeNs: bigint, hash: string): void {
    this.entries.set(rel, [signature(ino, size, mtimeNs), hash]);
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    const rows: [string, string, string][] = [];
    for (const [rel, [sig, hash]] of this.entries) rows.push([rel, sig, hash]);
    try {
      writeFileAtomic(this.file, JSON.stringify(rows));
      this.dirty = false;
    } catch (error) {
      // Only an accelerator: on a full disk the next command re-hashes what it cannot skip.
      if (!isDiskFull(error)) throw error;
    }
  }
}
