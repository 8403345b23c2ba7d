import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { runKey } from './layout.js';
import type { StoredOut } from './object-store.js';
import { checkKey, parseRunRecord } from './untrusted.js';

/** `cache/runs/<key>.json`: the outs a stage key produced, so a key seen before restores instead of running. */
export interface RunRecord {
  key: string;
  /** The instance that produced it (informational: any instance with this key may restore it). */
  stage: string;
  outs: Record<string, StoredOut>;
  /** Wall time of the run that produced these outs; feeds ETAs. */
  durationMs: number;
  finishedAt: string;
}

export class RunCache {
  readonly dir: string;

  constructor(readonly cacheDir: string) {
    this.dir = path.join(cacheDir, 'runs');
  }

  /** Where the record for `key` lives; `key` is checked, so the name can point nowhere else. */
  fileOf(key: string): string {
    checkKey(key, this.cacheDir);
    return path.join(this.cacheDir, runKey(key));
  }

  /** The record for `key`, checked; undefined when there is none. Throws UnsafeCacheEntryError for one pipeline would not have written. */
  get(key: string): RunRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.fileOf(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseRunRecord(text, key, this.cacheDir);
  }

  put(record: RunRecord): void {
    writeFileAtomic(this.fileOf(record.key), JSON.stringify(record, null, 2) + '\n');
  }
}
