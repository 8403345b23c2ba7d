import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { declaration } from './declaration.js';
import { ANALYSIS_SIZE, type Inspection } from './inspect.js';

/** Change when what an inspection computes changes, so old memos are not reused. */
const MEMO_VERSION = `${declaration.version}:${ANALYSIS_SIZE}:3`;

interface MemoFile {
  version: string;
  /** Absolute path -> [stat signature, sha256]: an unchanged file is not even read. */
  paths: Record<string, [string, string]>;
  /** sha256 -> what inspecting that content gave: a renamed or copied image is not decoded again. */
  items: Record<string, Inspection>;
}

/**
 * Per-image results kept across runs in the stage's own cache directory (never an out, never
 * shared): adding 100 images to 50k reads and decodes 100. A lost or stale memo only costs time.
 */
export class ItemMemo {
  private readonly file: string;
  private data: MemoFile;
  private readonly seen = new Set<string>();

  constructor(dir: string) {
    this.file = path.join(dir, 'memo.json');
    try {
      const loaded = JSON.parse(readFileSync(this.file, 'utf8')) as MemoFile;
      this.data = loaded.version === MEMO_VERSION ? loaded : empty();
    } catch {
      this.data = empty();
    }
  }

  shaOf(abs: string, signature: string): string | undefined {
    this.seen.add(abs);
    const entry = this.data.paths[abs];
    return entry && entry[0] === signature ? entry[1] : undefined;
  }

  rememberSha(abs: string, signature: string, sha256: string): void {
    this.data.paths[abs] = [signature, sha256];
  }

  inspection(sha256: string): Inspection | undefined {
    return this.data.items[sha256];
  }

  rememberInspection(sha256: string, result: Inspection): void {
    this.data.items[sha256] = result;
  }

  /** Writes what this run saw (paths no longer listed are dropped, so the memo does not grow forever). */
  save(): void {
    const paths: MemoFile['paths'] = {};
    const items: MemoFile['items'] = {};
    for (const abs of this.seen) {
      const entry = this.data.paths[abs];
      if (!entry) continue;
      paths[abs] = entry;
      const item = this.data.items[entry[1]];
      if (item) items[entry[1]] = item;
    }
    writeFileAtomic(this.file, JSON.stringify({ version: MEMO_VERSION, paths, items }));
  }
}

function empty(): MemoFile {
  return { version: MEMO_VERSION, paths: {}, items: {} };
}
