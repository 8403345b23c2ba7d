import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import { tempNameFor, writeFileAtomic } from '../fs-atomic.js';
import { parseManifest } from '../hash/content-hasher.js';
import { objectsOf } from './maintenance.js';
import type { ObjectStore } from './object-store.js';
import type { Remote } from './remote.js';
import type { RunCache, RunRecord } from './run-cache.js';

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
}

/** Parallel requests; PIPELINE_TRANSFER_JOBS overrides (a slow link, a strict server). */
const CONCURRENCY = Number(process.env.PIPELINE_TRANSFER_JOBS) || 8;

const objectKey = (hash: string) => `objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
const runKey = (key: string) => `runs/${key}.json`;

/**
 * Pushes the run records for `keys` and every object they need. Objects go first and the run
 * record last, so a record on the remote always has its objects; an interrupted push leaves
 * at worst objects without a record, and the next push skips what is already there.
 */
export async function push(store: ObjectStore, runs: RunCache, remote: Remote, keys: string[], onProgress?: (p: TransferProgress) => void): Promise<TransferReport> {
  const report: TransferReport = { runs: 0, objects: 0, present: 0, bytes: 0, missing: [], corrupt: [] };
  const records: RunRecord[] = [];
  for (const key of new Set(keys)) {
    const record = runs.get(key);
    if (record) records.push(record);
    else report.missing.push(key);
  }
  const hashes = [...new Set(records.flatMap((r) => objectsOf(r, store)))];
  const queue = new PQueue({ concurrency: CONCURRENCY });
  let done = 0;
  await Promise.all(
    hashes.map((hash) =>
      queue.add(async () => {
        if (await remote.has(objectKey(hash))) report.present++;
        else {
          await remote.put(objectKey(hash), store.pathOf(hash));
          report.objects++;
          report.bytes += statSync(store.pathOf(hash)).size;
        }
        onProgress?.({ done: ++done, total: hashes.length, bytes: report.bytes });
      }),
    ),
  );
  for (const record of records) {
    await remote.put(runKey(record.key), path.join(runs.dir, `${record.key}.json`));
    report.runs++;
  }
  return report;
}

/**
 * Pulls run records for `keys` and their objects. Every object is written to a temp name,
 * hashed, and renamed into place only if its bytes match its name; the record is written last.
 */
export async function pull(store: ObjectStore, runs: RunCache, remote: Remote, keys: string[], onProgress?: (p: TransferProgress) => void): Promise<TransferReport> {
  const report: TransferReport = { runs: 0, objects: 0, present: 0, bytes: 0, missing: [], corrupt: [] };
  const tmpDir = path.join(store.cacheDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const queue = new PQueue({ concurrency: CONCURRENCY });
  let done = 0;
  let total = 0;

  const fetchObject = async (hash: string): Promise<boolean> => {
    if (store.has(hash)) {
      report.present++;
      return true;
    }
    const tmp = tempNameFor(path.join(tmpDir, hash));
    try {
      const received = await remote.get(objectKey(hash), tmp);
      if (received === false) return false;
      if (received !== hash) {
        report.corrupt.push(hash);
        return false;
      }
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

  const pullOne = async (key: string): Promise<void> => {
    const local = runs.get(key);
    if (local && objectsOf(local, store).every((h) => store.has(h))) return;
    const tmp = tempNameFor(path.join(tmpDir, `${key}.json`));
    let record: RunRecord;
    try {
      if (!(await remote.get(runKey(key), tmp))) {
        report.missing.push(key);
        return;
      }
      record = JSON.parse(readFileSync(tmp, 'utf8')) as RunRecord;
    } finally {
      rmSync(tmp, { force: true });
    }
    if (record.key !== key) {
      report.corrupt.push(runKey(key));
      return;
    }
    let complete = true;
    const outs = Object.values(record.outs);
    total += outs.length;
    for (const out of outs) {
      complete = (await queue.add(() => fetchObject(out.hash))) !== false && complete;
      if (complete && out.kind === 'dir') {
        const entries = parseManifest(readFileSync(store.pathOf(out.hash), 'utf8'));
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
    writeFileAtomic(path.join(runs.dir, `${key}.json`), JSON.stringify(record, null, 2) + '\n');
    report.runs++;
  };

  await Promise.all([...new Set(keys)].map(pullOne));
  return report;
}

