import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { dirHash, manifestText, type ManifestEntry } from '../hash/content-hasher.js';
import { sha256File, sha256Text } from '../hash/sha256.js';
import { tempNameFor, writeFileAtomic } from '../fs-atomic.js';
import { objectKey } from './layout.js';
import { CacheEntryError, isSha256, maxManifestBytes, parseManifest, UnsafeCacheEntryError } from './untrusted.js';

export class CorruptObjectError extends CacheEntryError {
  constructor(readonly hash: string, readonly actual: string) {
    super(actual === 'missing' ? `cache object ${hash} is missing` : `cache object ${hash} is corrupt (its content hashes to ${actual}); run \`pipeline cache verify\``);
  }
}

/** What an out was when it was cached: enough to restore it byte for byte. */
export type StoredOut = { kind: 'file'; hash: string; exec: boolean } | { kind: 'dir'; hash: string };

/**
 * `cache/objects/ab/cdef…`: content-addressed, read-only files. Objects are written under a
 * temp name and renamed into place, so a crash never leaves a partial object under a valid
 * name, and they are verified on the way out, so a corrupt one is never restored silently.
 */
export class ObjectStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(readonly cacheDir: string) {
    this.objectsDir = path.join(cacheDir, 'objects');
    this.tmpDir = path.join(cacheDir, 'tmp');
  }

  pathOf(hash: string): string {
    if (!isSha256(hash)) throw new UnsafeCacheEntryError(`object ${JSON.stringify(hash).slice(0, 80)}`, 'an object name is a sha256', this.cacheDir);
    return path.join(this.cacheDir, objectKey(hash));
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash));
  }

  /** Copies a file in (reflink when the filesystem can), checking it did not change on the way. */
  putFile(abs: string, knownHash?: string): string {
    const hash = knownHash ?? sha256File(abs);
    const target = this.pathOf(hash);
    if (existsSync(target)) return hash;
    mkdirSync(this.tmpDir, { recursive: true });
    const tmp = tempNameFor(path.join(this.tmpDir, hash));
    try {
      copyFileSync(abs, tmp, constants.COPYFILE_FICLONE);
      const actual = sha256File(tmp);
      if (actual !== hash) throw new Error(`${abs} changed while it was being cached`);
      chmodSync(tmp, 0o444);
      mkdirSync(path.dirname(target), { recursive: true });
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return hash;
  }

  putText(text: string): string {
    const hash = sha256Text(text);
    const target = this.pathOf(hash);
    if (!existsSync(target)) {
      writeFileAtomic(target, text);
      chmodSync(target, 0o444);
    }
    return hash;
  }

  readText(hash: string): string {
    const data = readFileSync(this.pathOf(hash));
    const actual = sha256Text(data);
    if (actual !== hash) throw new CorruptObjectError(hash, actual);
    return data.toString('utf8');
  }

  /** A directory manifest, checked (cache/ may be shared, so its content is untrusted). */
  readManifest(hash: string): ManifestEntry[] {
    const size = statSync(this.pathOf(hash), { throwIfNoEntry: false })?.size;
    if (size === undefined) throw new CorruptObjectError(hash, 'missing');
    if (size > maxManifestBytes()) throw new UnsafeCacheEntryError(`manifest ${hash}`, `it is ${size} bytes, more than ${maxManifestBytes()} (PIPELINE_MAX_MANIFEST_BYTES)`, this.cacheDir);
    return parseManifest(this.readText(hash), `manifest ${hash}`, this.cacheDir);
  }

  /** Stores a directory's files and its manifest; returns the directory hash (the manifest's id). */
  putDirectory(entries: ManifestEntry[], absDir: string): string {
    for (const entry of entries) this.putFile(path.join(absDir, entry.path), entry.hash);
    const hash = this.putText(manifestText(entries));
    if (hash !== dirHash(entries)) throw new Error('manifest hash mismatch');
    return hash;
  }

  /**
   * Restores an object to `dest`: copy to a temp name beside it, verify, set the mode, rename.
   * The restored file is a copy (or reflink), so editing it can never change the object.
   */
  restoreFile(hash: string, dest: string, exec: boolean): void {
    mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = tempNameFor(dest);
    try {
      try {
        copyFileSync(this.pathOf(hash), tmp, constants.COPYFILE_FICLONE);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CorruptObjectError(hash, 'missing');
        throw error;
      }
      const actual = sha256File(tmp);
      if (actual !== hash) throw new CorruptObjectError(hash, actual);
      chmodSync(tmp, exec ? 0o755 : 0o644);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Total bytes of the given objects (those present). */
  sizeOf(hashes: Iterable<string>): number {
    let total = 0;
    for (const hash of new Set(hashes)) total += statSync(this.pathOf(hash), { throwIfNoEntry: false })?.size ?? 0;
    return total;
  }

  /** Every object hash present (for gc/verify). */
  *allHashes(): Generator<string> {
    if (!existsSync(this.objectsDir)) return;
    for (const prefix of readdirSync(this.objectsDir)) {
      const dir = path.join(this.objectsDir, prefix);
      if (!statSync(dir).isDirectory()) continue;
      for (const rest of readdirSync(dir)) if (!rest.endsWith('.tmp')) yield prefix + rest;
    }
  }
}
