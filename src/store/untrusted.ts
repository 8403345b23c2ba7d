import type { ManifestEntry } from '../hash/content-hasher.js';
import type { StoredOut } from './object-store.js';
import type { RunRecord } from './run-cache.js';

/**
 * Everything read back from cache/ or a remote (run records, directory manifests, keys) may
 * have been written by someone else: a colleague's clone, a compromised shared directory, a
 * hostile server. These parsers are the only way such data enters the engine; they accept
 * what pipeline itself writes and refuse anything that could make a restore write outside
 * the out it belongs to, or exhaust memory.
 */

/** A cache entry that pipeline will not use; the stage runs instead of restoring it. */
export class CacheEntryError extends Error {}

export class UnsafeCacheEntryError extends CacheEntryError {
  constructor(
    /** What was refused: `runs/<key>.json`, `manifest <hash>`. */
    readonly entry: string,
    readonly problem: string,
    /** Where it came from: the local cache dir or the remote's URL. */
    readonly source: string,
  ) {
    super(`refused ${entry} from ${source}: ${problem}`);
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The largest directory manifest accepted: ~100 bytes an entry, so about 10M files. */
export function maxManifestBytes(): number {
  return Number(process.env.PIPELINE_MAX_MANIFEST_BYTES) || 1024 ** 3;
}

/** A run record is small (one entry per out); anything larger is not one of ours. */
export const MAX_RECORD_BYTES = 16 * 1024 ** 2;
const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

/**
 * Why `p` is not a safe path inside a directory, or undefined when it is: relative, posix,
 * normalised (no empty, `.` or `..` segments), no NUL or backslash, within length limits.
 */
export function unsafePathProblem(p: unknown): string | undefined {
  if (typeof p !== 'string' || p === '') return 'the path is empty or not a string';
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) return `the path is longer than ${MAX_PATH_BYTES} bytes`;
  if (p.includes('\0')) return 'the path contains a NUL byte';
  if (p.includes('\\')) return `the path ${JSON.stringify(p)} contains a backslash`;
  if (p.startsWith('/')) return `the path ${JSON.stringify(p)} is absolute`;
  for (const segment of p.split('/')) {
    if (segment === '..') return `the path ${JSON.stringify(p)} leaves its directory (..)`;
    if (segment === '' || segment === '.') return `the path ${JSON.stringify(p)} is not normalised`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `a name in ${JSON.stringify(p)} is longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Throws unless `key` is a stage key (so `runs/<key>.json` can name nothing else). */
export function checkKey(key: string, source: string): void {
  if (!isSha256(key)) throw new UnsafeCacheEntryError(`run key ${JSON.stringify(key).slice(0, 80)}`, 'a key is 64 lowercase hex digits', source);
}

/**
 * Parses a directory manifest: a JSON list of [path, sha256, 0|1], sorted by path, each path
 * safe, none listed twice, and no file that is also another entry's directory.
 */
export function parseManifest(text: string, entry: string, source: string): ManifestEntry[] {
  const refuse = (problem: string): never => {
    throw new UnsafeCacheEntryError(entry, problem, source);
  };
  if (Buffer.byteLength(text) > maxManifestBytes()) refuse(`the manifest is larger than ${maxManifestBytes()} bytes (PIPELINE_MAX_MANIFEST_BYTES)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    refuse('the manifest is not JSON');
  }
  if (!Array.isArray(data)) return refuse('the manifest is not a list');
  const entries: ManifestEntry[] = [];
  let previous: string | undefined;
  for (const row of data as unknown[]) {
    if (!Array.isArray(row) || row.length !== 3) refuse(`entry ${entries.length} is not [path, hash, exec]`);
    const [p, hash, exec] = row as [unknown, unknown, unknown];
    const problem = unsafePathProblem(p);
    if (problem) refuse(problem);
    const rel = p as string;
    if (!isSha256(hash)) refuse(`the hash of ${JSON.stringify(rel)} is not a sha256`);
    if (exec !== 0 && exec !== 1) refuse(`the mode of ${JSON.stringify(rel)} is not 0 or 1`);
    if (previous !== undefined) {
      if (rel === previous) refuse(`${JSON.stringify(rel)} is listed twice`);
      if (rel < previous) refuse('the entries are not sorted (pipeline writes them sorted)');
    }
    entries.push({ path: rel, hash: hash as string, exec: exec === 1 });
    previous = rel;
  }
  const files = new Set(entries.map((e) => e.path));
  for (const e of entries) {
    for (let slash = e.path.indexOf('/'); slash !== -1; slash = e.path.indexOf('/', slash + 1)) {
      if (files.has(e.path.slice(0, slash))) refuse(`${JSON.stringify(e.path.slice(0, slash))} is both a file and the directory of ${JSON.stringify(e.path)}`);
    }
  }
  return entries;
}

function storedOut(value: unknown): StoredOut | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isSha256(v.hash)) return undefined;
  if (v.kind === 'file' && typeof v.exec === 'boolean') return { kind: 'file', hash: v.hash, exec: v.exec };
  if (v.kind === 'dir') return { kind: 'dir', hash: v.hash };
  return undefined;
}

/** Parses `runs/<key>.json`: it must be for `key`, and every out a safe path with a well-formed object. */
export function parseRunRecord(text: string, key: string, source: string): RunRecord {
  const entry = `runs/${key}.json`;
  const refuse = (problem: string): never => {
    throw new UnsafeCacheEntryError(entry, problem, source);
  };
  checkKey(key, source);
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES) refuse(`the record is larger than ${MAX_RECORD_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    refuse('the record is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return refuse('the record is not an object');
  const d = data as Record<string, unknown>;
  if (d.key !== key) refuse(`the record is for key ${JSON.stringify(d.key)}`);
  if (typeof d.stage !== 'string' || !/^[^\0\n]{1,1024}$/.test(d.stage)) refuse('its stage name is not a one-line string');
  if (typeof d.outs !== 'object' || d.outs === null || Array.isArray(d.outs)) return refuse('its outs are not a mapping');
  const outs: Record<string, StoredOut> = {};
  for (const [out, value] of Object.entries(d.outs as Record<string, unknown>)) {
    const problem = unsafePathProblem(out);
    if (problem) refuse(`out ${problem}`);
    const stored = storedOut(value);
    if (!stored) refuse(`out ${JSON.stringify(out)} is not {kind: file|dir, hash: sha256}`);
    outs[out] = stored!;
  }
  const durationMs = typeof d.durationMs === 'number' && Number.isFinite(d.durationMs) && d.durationMs >= 0 ? d.durationMs : 0;
  const finishedAt = typeof d.finishedAt === 'string' ? d.finishedAt.slice(0, 64) : '';
  return { key, stage: d.stage as string, outs, durationMs, finishedAt };
}
