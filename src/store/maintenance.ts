import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { sha256File } from '../hash/sha256.js';
import type { Lockfile } from './lockfile.js';
import type { ObjectStore } from './object-store.js';
import type { RunCache, RunRecord } from './run-cache.js';

export interface GcReport {
  keptRuns: number;
  removedRuns: string[];
  keptObjects: number;
  removedObjects: string[];
  removedBytes: number;
}

function allRecords(runs: RunCache): RunRecord[] {
  let names: string[];
  try {
    names = readdirSync(runs.dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const records: RunRecord[] = [];
  for (const name of names) {
    try {
      const record = runs.get(name.replace(/\.json$/, ''));
      if (record) records.push(record);
    } catch {
      // An unreadable or refused record is garbage too; nothing may keep it.
      records.push({ key: name.replace(/\.json$/, ''), stage: '', outs: {}, durationMs: 0, finishedAt: '' });
    }
  }
  return records;
}

/** Objects a run record needs: each out, and for directories the manifest and every file in it. */
export function objectsOf(record: RunRecord, store: ObjectStore): string[] {
  const hashes: string[] = [];
  for (const out of Object.values(record.outs)) {
    hashes.push(out.hash);
    if (out.kind === 'dir') {
      try {
        for (const entry of store.readManifest(out.hash)) hashes.push(entry.hash);
      } catch {
        // Missing or corrupt manifest: nothing more to keep for it.
      }
    }
  }
  return hashes;
}

/**
 * The run records gc keeps: what pipeline.lock references plus the newest `keepLast` runs of
 * every stage instance (so switching a config back stays a restore). One rule for the local
 * cache and for remotes.
 */
export function keptRunKeys(records: readonly RunRecord[], lock: Lockfile, keepLast: number): Set<string> {
  const keep = new Set<string>();
  for (const id of lock.ids()) keep.add(lock.get(id)!.key);
  const byStage = new Map<string, RunRecord[]>();
  for (const record of records) {
    const list = byStage.get(record.stage) ?? [];
    list.push(record);
    byStage.set(record.stage, list);
  }
  for (const [stage, list] of byStage) {
    if (!stage) continue;
    list.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
    list.slice(0, keepLast).forEach((r) => keep.add(r.key));
  }
  return keep;
}

/**
 * Keeps what pipeline.lock references plus the newest `keepLast` runs of every stage instance
 * (so switching a config back stays a restore), and removes every other run record and object.
 * The cache may be shared with other clones: their locks are unknown here, which is why recent
 * runs are kept and `--dry-run` exists.
 */
export function collectGarbage(store: ObjectStore, runs: RunCache, lock: Lockfile, options: { keepLast: number; dryRun: boolean }): GcReport {
  const records = allRecords(runs);
  const keep = keptRunKeys(records, lock, options.keepLast);
  const liveObjects = new Set<string>();
  const removedRuns: string[] = [];
  for (const record of records) {
    if (keep.has(record.key)) objectsOf(record, store).forEach((h) => liveObjects.add(h));
    else removedRuns.push(record.key);
  }
  const removedObjects: string[] = [];
  let removedBytes = 0;
  let keptObjects = 0;
  for (const hash of store.allHashes()) {
    if (liveObjects.has(hash)) {
      keptObjects++;
      continue;
    }
    removedObjects.push(hash);
    removedBytes += statSync(store.pathOf(hash)).size;
  }
  if (!options.dryRun) {
    // Records first: a run record must never point at objects that are already gone.
    for (const key of removedRuns) rmSync(path.join(runs.dir, `${key}.json`), { force: true });
    for (const hash of removedObjects) rmSync(store.pathOf(hash), { force: true });
    rmSync(store.tmpDir, { recursive: true, force: true });
  }
  return { keptRuns: records.length - removedRuns.length, removedRuns, keptObjects, removedObjects, removedBytes };
}

export interface VerifyReport {
  checked: number;
  corrupt: string[];
  /** Run records whose objects are missing (after quarantine): they will run again, not restore. */
  incompleteRuns: string[];
}

/** Re-hashes every object; a corrupt one moves to `cache/quarantine/` so it can never be restored. */
export function verifyCache(store: ObjectStore, runs: RunCache, onProgress?: (done: number) => void): VerifyReport {
  const corrupt: string[] = [];
  let checked = 0;
  const quarantine = path.join(store.cacheDir, 'quarantine');
  for (const hash of store.allHashes()) {
    const file = store.pathOf(hash);
    if (sha256File(file) !== hash) {
      mkdirSync(quarantine, { recursive: true });
      renameSync(file, path.join(quarantine, hash));
      corrupt.push(hash);
    }
    checked++;
    onProgress?.(checked);
  }
  const incompleteRuns = allRecords(runs)
    .filter((record) => objectsOf(record, store).some((h) => !store.has(h)))
    .map((r) => r.key);
  return { checked, corrupt, incompleteRuns };
}
