import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Entry {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  hash: string;
}

/**
 * Remembers (inode, size, mtime_ns) -> sha256 per project-relative path, so a no-op run costs
 * a stat per file instead of a read. Persisted per project (not in the shareable cache: inode
 * numbers mean nothing in another clone). Losing it only costs re-hashing.
 */
export class StatCache {
  private entries = new Map<string, Entry>();
  private dirty = false;

  constructor(private readonly file: string) {
    try {
      const rows = JSON.parse(readFileSync(file, 'utf8')) as [string, string, string, string, string][];
      for (const [rel, ino, size, mtimeNs, hash] of rows) {
        this.entries.set(rel, { ino: BigInt(ino), size: BigInt(size), mtimeNs: BigInt(mtimeNs), hash });
      }
    } catch {
      // Missing or unreadable: start empty; it is only an accelerator.
    }
  }

  get(rel: string, ino: bigint, size: bigint, mtimeNs: bigint): string | undefined {
    const entry = this.entries.get(rel);
    if (entry && entry.ino === ino && entry.size === size && entry.mtimeNs === mtimeNs) return entry.hash;
    return undefined;
  }

  set(rel: string, ino: bigint, size: bigint, mtimeNs: bigint, hash: string): void {
    this.entries.set(rel, { ino, size, mtimeNs, hash });
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    const rows: [string, string, string, string, string][] = [];
    for (const [rel, e] of this.entries) rows.push([rel, e.ino.toString(), e.size.toString(), e.mtimeNs.toString(), e.hash]);
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rows));
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}
