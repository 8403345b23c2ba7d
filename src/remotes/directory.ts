import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { tempNameFor } from '../fs-atomic.js';
import { sha256File } from '../hash/sha256.js';
import { tooLarge, type PartialUpload, type Remote, type RemoteEntry, type RemoteMaintenance } from './remote.js';

/** The names tempNameFor gives: what a killed push leaves on a directory remote. */
const TEMP_NAME = /^\..+\.\d+\.[0-9a-z]+\.\d+\.tmp$/;

/** A directory (a lab's NFS share, a mounted bucket): temp file + rename, as the local cache writes. */
export class DirectoryRemote implements Remote {
  readonly maintenance: RemoteMaintenance;

  constructor(readonly url: string) {
    this.maintenance = {
      list: (prefix) => this.list(prefix),
      remove: async (key) => rmSync(path.join(this.url, key), { force: true }),
      partialUploads: () => this.partialUploads(),
      discard: async (upload) => rmSync(path.join(this.url, upload.name), { force: true }),
    };
  }

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

  /** Every file under `prefix`, temp files included (TEMP_NAME tells them apart). */
  private *files(prefix: string): Generator<{ key: string; stats: ReturnType<typeof statSync> & object }> {
    const root = path.join(this.url, prefix);
    let names: string[];
    try {
      names = readdirSync(root, { recursive: true }) as string[];
    } catch {
      return;
    }
    for (const name of names) {
      const stats = statSync(path.join(root, name), { throwIfNoEntry: false });
      if (stats?.isFile()) yield { key: path.posix.join(prefix, name.split(path.sep).join('/')), stats };
    }
  }

  private async *list(prefix: string): AsyncIterable<RemoteEntry> {
    for (const { key, stats } of this.files(prefix)) {
      if (!TEMP_NAME.test(path.posix.basename(key))) yield { key, size: Number(stats.size), modified: stats.mtime };
    }
  }

  private async *partialUploads(): AsyncIterable<PartialUpload> {
    for (const top of ['objects', 'runs']) {
      for (const { key, stats } of this.files(top)) {
        if (TEMP_NAME.test(path.posix.basename(key))) yield { name: key, started: stats.mtime, size: Number(stats.size) };
      }
    }
  }
}
