import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Temporary directories that remove themselves when the test process exits, passed or failed.
 * Some tests leave read-only folders behind on purpose (a read-only cache, an unwritable out), so
 * removal makes them writable first when a plain removal is refused.
 */
const made: string[] = [];
let hooked = false;

export function tempDir(prefix = 'pipeline-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeTempDirs);
  }
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) removeTree(dir);
}

export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    makeWritable(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function makeWritable(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) return;
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) makeWritable(path.join(dir, entry.name));
  } catch {
    // A path that vanished or cannot be reached: the removal that follows reports what is left.
  }
}
