import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const chunk = Buffer.allocUnsafe(1 << 20);

/** sha256 of a file's bytes, read synchronously in 1 MiB chunks (fast for the many small files of a dataset). */
export function sha256File(absPath: string): string {
  const hash = createHash('sha256');
  const fd = openSync(absPath, 'r');
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function sha256Text(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
