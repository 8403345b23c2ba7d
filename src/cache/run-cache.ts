import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import type { StoredOut } from './object-store.js';

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

  constructor(cacheDir: string) {
    this.dir = path.join(cacheDir, 'runs');
  }

  get(key: string): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, `${key}.json`), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }

  put(record: RunRecord): void {
    writeFileAtomic(path.join(this.dir, `${record.key}.json`), JSON.stringify(record, null, 2) + '\n');
  }
}
