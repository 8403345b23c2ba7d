import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import { UserError } from '../errors.js';
import { tempNameFor } from '../fs-atomic.js';
import type { Remote, RemoteMaintenance } from '../remotes/remote.js';
import { objectKey, runKey } from './layout.js';
import type { Lockfile } from './lockfile.js';
import { keptRunKeys } from './maintenance.js';
import type { ObjectStore } from './object-store.js';
import type { RunRecord } from './run-cache.js';
import { MAX_RECORD_BYTES, maxManifestBytes, parseManifest, parseRunRecord, UnsafeCacheEntryError } from './untrusted.js';

export interface RemoteGcOptions {
  keepLast: number;
  dryRun: boolean;
  /**
   * Unreferenced objects and partial uploads younger than this stay: they may belong to a push
   * still in progress on another machine, whose run record is written last.
   */
  graceMs: number;
}

export interface RemoteGcReport {
  keptRuns: number;
  removedRuns: string[];
  keptObjects: number;
  removedObjects: number;
  removedBytes: number;
  /** Temp files and unfinished multipart uploads that were discarded. */
  partial: string[];
  partialBytes: number;
  /** Records on the remote that were refused as untrusted input (removed: nothing may keep them). */
  refused: string[];
}

const RECORD_NAME = /^runs\/([0-9a-f]{64})\.json$/;
const OBJECT_NAME = /^objects\/([0-9a-f]{2})\/([0-9a-f]{62})$/;
const CONCURRENCY = Number(process.env.PIPELINE_TRANSFER_JOBS) || 8;

/**
 * `cache gc --remote`: the local rule (keptRunKeys) applied to the records on the remote, read
 * back as untrusted input. Records go first, so a record never points at removed objects; files
 * that are not named as pipeline names them are left alone.
 */
export async function collectRemoteGarbage(remote: Remote, store: ObjectStore, lock: Lockfile, options: RemoteGcOptions): Promise<RemoteGcReport> {
  const maintenance = remote.maintenance;
  if (!maintenance) throw new UserError(`remote ${remote.url} cannot list its files, so \`cache gc --remote\` cannot tell what is unused there; prune it on the server (or use a directory or s3:// remote)`);
  const report: RemoteGcReport = { keptRuns: 0, removedRuns: [], keptObjects: 0, removedObjects: 0, removedBytes: 0, partial: [], partialBytes: 0, refused: [] };
  mkdirSync(store.tmpDir, { recursive: true });
  const queue = new PQueue({ concurrency: CONCURRENCY });

  const download = async <T>(key: string, maxBytes: number, parse: (text: string) => T): Promise<T | undefined> => {
    const tmp = tempNameFor(path.join(store.tmpDir, 'remote-gc'));
    try {
      if ((await remote.get(key, tmp, maxBytes)) === false) return undefined;
      return parse(readFileSync(tmp, 'utf8'));
    } finally {
      rmSync(tmp, { force: true });
    }
  };

  const records: RunRecord[] = [];
  const recordKeys: string[] = [];
  for await (const entry of maintenance.list('runs/')) {
    const key = RECORD_NAME.exec(entry.key)?.[1];
    if (key) recordKeys.push(key);
  }
  await Promise.all(
    recordKeys.map((key) =>
      queue.add(async () => {
        try {
          const record = await download(runKey(key), MAX_RECORD_BYTES, (text) => parseRunRecord(text, key, remote.url));
          if (record) records.push(record);
        } catch (error) {
          if (!(error instanceof UnsafeCacheEntryError)) throw error;
          report.refused.push(error.message);
          records.push({ key, stage: '', outs: {}, durationMs: 0, finishedAt: '' });
        }
      }),
    ),
  );

  const keep = keptRunKeys(records, lock, options.keepLast);
  const live = new Set<string>();
  const manifests: string[] = [];
  for (const record of records) {
    if (!keep.has(record.key)) {
      report.removedRuns.push(record.key);
      continue;
    }
    report.keptRuns++;
    for (const out of Object.values(record.outs)) {
      live.add(out.hash);
      if (out.kind === 'dir') manifests.push(out.hash);
    }
  }
  await Promise.all(
    [...new Set(manifests)].map((hash) =>
      queue.add(async () => {
        const where = `manifest ${hash}`;
        let entries;
        try {
          entries = store.has(hash) ? store.readManifest(hash) : await download(objectKey(hash), maxManifestBytes(), (text) => parseManifest(text, where, remote.url));
        } catch (error) {
          if (!(error instanceof UnsafeCacheEntryError)) throw error;
          report.refused.push(error.message);
        }
        for (const entry of entries ?? []) live.add(entry.hash);
      }),
    ),
  );

  const cutoff = Date.now() - options.graceMs;
  const removable: string[] = [];
  for await (const entry of maintenance.list('objects/')) {
    const name = OBJECT_NAME.exec(entry.key);
    if (!name) continue;
    if (live.has(name[1]! + name[2]!) || entry.modified.getTime() > cutoff) report.keptObjects++;
    else {
      removable.push(entry.key);
      report.removedObjects++;
      report.removedBytes += entry.size;
    }
  }
  const partial = [];
  for await (const upload of maintenance.partialUploads()) {
    if (upload.started.getTime() > cutoff) continue;
    partial.push(upload);
    report.partial.push(upload.name);
    report.partialBytes += upload.size;
  }
  if (!options.dryRun) {
    await removeAll(queue, maintenance, report.removedRuns.map(runKey));
    await removeAll(queue, maintenance, removable);
    await Promise.all(partial.map((upload) => queue.add(() => maintenance.discard(upload))));
  }
  return report;
}

async function removeAll(queue: PQueue, maintenance: RemoteMaintenance, keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => queue.add(() => maintenance.remove(key))));
}
