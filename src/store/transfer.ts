import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import { tempNameFor } from '../fs-atomic.js';
import { objectsOf } from './maintenance.js';
import { objectKey, runKey } from './layout.js';
import type { ObjectStore } from './object-store.js';
import type { Remote } from '../remotes/remote.js';
import type { RunCache, RunRecord } from './run-cache.js';
import { checkKey, MAX_RECORD_BYTES, maxManifestBytes, parseManifest, parseRunRecord, UnsafeCacheEntryError } from './untrusted.js';

export interface TransferProgress {
  done: number;
  total: number;
  bytes: number;
}

export interface TransferReport {
  runs: number;
  /** Objects that moved. */
  objects: number;
  /** Objects already on the other side (a resumed or repeated transfer moves only what is missing). */
  present: number;
  bytes: number;
  /** Keys with no run record on the source side. */
  missing: string[];
  /** Objects whose downloaded bytes did not match their hash (discarded). */
  corrupt: string[];
  /** Why records or manifests from the remote were refused (nothing of them was written). */
  refused: string[];
}

/** Parallel requests; PIPELINE_TRANSFER_JOBS overrides (a slow link, a strict server). */
const CONCURRENCY = Number(process.env.PIPELINE_TRANSFER_JOBS) || 8;


/**
 * Pushes the run records for `keys` and every object they need. Objects go first and the run
 * record last, so a record on the remote always has its objects; an interrupted push leaves
 * at worst objects without a record, and the next push skips what is already there.
 */
export async function push(store: ObjectStore, runs: RunCache, remote: Remote, keys: string[], onProgress?: (p: TransferProgress) => void): Promise<TransferReport> {
  const report: TransferReport = { runs: 0, objects: 0, present: 0, bytes: 0, missing: [], corrupt: [], refused: [] };
  const records: RunRecord[] = [];
  for (const key of new Set(keys)) {
    try {
      const record = runs.get(key);
      if (record) records.push(record);
      else report.missing.push(key);
    } catch (error) {
      if (!(error instanceof UnsafeCacheEntryError)) throw error;
      report.refused.push(error.message);
    }
  }
  const hashes = [...new Set(records.flatMap((r) => objectsOf(r, store)))];
  const queue = new PQueue({ concurrency: CONCURRENCY });
  let done = 0;
  // Bytes of objects still on their way, so a large model file moves the progress line as its parts go up.
  const inflight = new Map<string, number>();
  const sending = () => report.bytes + [...inflight.values()].reduce((a, b) => a + b, 0);
  await Promise.all(
    hashes.map((hash) =>
      queue.add(async () => {
        if (await remote.has(objectKey(hash))) report.present++;
        else {
          await remote.put(objectKey(hash), store.pathOf(hash), (sent) => {
            inflight.set(hash, sent);
            onProgress?.({ done, total: hashes.length, bytes: sending() });
          });
          inflight.delete(hash);
          report.objects++;
          report.bytes += statSync(store.pathOf(hash)).size;
        }
        onProgress?.({ done: ++done, total: hashes.length, bytes: sending() });
      }),
    ),
  );
  for (const record of records) {
    await remote.put(runKey(record.key), runs.fileOf(record.key));
    report.runs++;
  }
  return report;
}

/**
 * Pulls run records for `keys` and their objects. Everything the remote sends is untrusted:
 * records and manifests are parsed strictly (untrusted.ts) before anything is written, every
 * object is written to a temp name, hashed, and renamed into place only if its bytes match its
 * name, and the record is written last. A refused record is reported and its stage runs instead.
 */
export async function pull(store: ObjectStore, runs: RunCache, remote: Remote, keys: string[], onProgress?: (p: TransferProgress) => void): Promise<TransferReport> {
  const report: TransferReport = { runs: 0, objects: 0, present: 0, bytes: 0, missing: [], corrupt: [], refused: [] };
  const tmpDir = store.tmpDir;
  mkdirSync(tmpDir, { recursive: true });
  const queue = new PQueue({ concurrency: CONCURRENCY });
  let done = 0;
  let total = 0;

  /** Fetches one object; `check` sees a manifest's bytes before they are kept. */
  const fetchObject = async (hash: string, check?: (text: string) => void): Promise<boolean> => {
    if (store.has(hash)) {
      report.present++;
      return true;
    }
    const tmp = tempNameFor(path.join(tmpDir, hash));
    try {
      const received = await remote.get(objectKey(hash), tmp, check ? maxManifestBytes() : undefined);
      if (received === false) return false;
      if (received !== hash) {
        report.corrupt.push(hash);
        return false;
      }
      check?.(readFileSync(tmp, 'utf8'));
      chmodSync(tmp, 0o444);
      mkdirSync(path.dirname(store.pathOf(hash)), { recursive: true });
      report.bytes += statSync(tmp).size;
      renameSync(tmp, store.pathOf(hash));
      report.objects++;
      return true;
    } finally {
      rmSync(tmp, { force: true });
    }
  };

  const fetchRecord = async (key: string): Promise<RunRecord | undefined> => {
    const tmp = tempNameFor(path.join(tmpDir, 'run.json'));
    try {
      checkKey(key, remote.url);
      if (!(await remote.get(runKey(key), tmp, MAX_RECORD_BYTES))) return undefined;
      return parseRunRecord(readFileSync(tmp, 'utf8'), key, remote.url);
    } finally {
      rmSync(tmp, { force: true });
    }
  };

  const pullOne = async (key: string): Promise<void> => {
    if (localComplete(store, runs, key)) return;
    const record = await fetchRecord(key);
    if (!record) {
      report.missing.push(key);
      return;
    }
    let complete = true;
    const outs = Object.entries(record.outs);
    total += outs.length;
    for (const [out, stored] of outs) {
      const where = `manifest ${stored.hash} (out ${out} of ${runKey(key)})`;
      complete = (await queue.add(() => fetchObject(stored.hash, stored.kind === 'dir' ? (text) => parseManifest(text, where, remote.url) : undefined))) !== false && complete;
      if (complete && stored.kind === 'dir') {
        const entries = store.readManifest(stored.hash);
        total += entries.length;
        const results = await Promise.all(entries.map((e) => queue.add(() => fetchObject(e.hash)).finally(() => onProgress?.({ done: ++done, total, bytes: report.bytes }))));
        complete = results.every((r) => r !== false) && complete;
      }
      onProgress?.({ done: ++done, total, bytes: report.bytes });
    }
    if (!complete) {
      report.missing.push(key);
      return;
    }
    runs.put(record);
    report.runs++;
  };

  await Promise.all(
    [...new Set(keys)].map((key) =>
      pullOne(key).catch((error: unknown) => {
        if (!(error instanceof UnsafeCacheEntryError)) throw error;
        report.refused.push(error.message);
      }),
    ),
  );
  return report;
}

/** The local cache already has a usable record for `key` and all its objects. */
function localComplete(store: ObjectStore, runs: RunCache, key: string): boolean {
  try {
    const local = runs.get(key);
    return local !== undefined && objectsOf(local, store).every((h) => store.has(h));
  } catch (error) {
    // A refused local record is replaced by the remote's, if that one is sound.
    if (error instanceof UnsafeCacheEntryError) return false;
    throw error;
  }
}
