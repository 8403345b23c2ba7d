import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

let counter = 0;

/** A file's identity as a write renamed into place changes it (inode, size, mtime), or 'missing'. */
export function fileIdentity(file: string): string {
  const stats = statSync(file, { bigint: true, throwIfNoEntry: false });
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeNs}` : 'missing';
}

/** A temp name beside `file` that no other process or call in this one will pick. */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.${counter++}.tmp`);
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write a temp file beside it, then rename over. A crash or full disk leaves the old file and
 * at worst a stray temp file. `durable` also fsyncs before the rename, so a power cut cannot
 * leave an empty file under the name: for pipeline.lock, which users commit; run records and
 * caches skip it (a lost one only means a rerun).
 */
export function writeFileAtomic(file: string, data: string | Buffer, durable = false): void {
  writeAtomic(file, [typeof data === 'string' ? Buffer.from(data) : data], durable);
}

/** writeFileAtomic for content produced in pieces (a million-line file need not be one string). */
export function writeChunksAtomic(file: string, chunks: Iterable<string | Buffer>): void {
  writeAtomic(file, chunks, false);
}

function writeAtomic(file: string, chunks: Iterable<string | Buffer>, durable: boolean): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempNameFor(file);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const chunk of chunks) writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
