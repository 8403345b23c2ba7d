import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { tempNameFor } from '../fs-atomic.js';
import { sha256File } from '../hash/sha256.js';
import { tooLarge, type Remote } from './remote.js';

/** A directory (a lab's NFS share, a mounted bucket): temp file + rename, as the local cache writes. */
export class DirectoryRemote implements Remote {
  constructor(readonly url: string) {}

  async has(key: string): Promise<boolean> {
    return existsSync(path.join(this.url, key));
  }

  async get(key: string, dest: string, maxBytes = Infinity): Promise<string | false> {
    const source = path.join(this.url, key);
    const stats = statSync(source, { throwIfNoEntry: false });
    if (!stats) return false;
    if (stats.size > maxBytes) throw tooLarge(key, maxBytes, this.url);
    copyFileSync(source, dest);
    return sha256File(dest);
  }

  close(): void {}

  async put(key: string, source: string): Promise<void> {
    const target = path.join(this.url, key);
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = tempNameFor(target);
    try {
      copyFileSync(source, tmp);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}
