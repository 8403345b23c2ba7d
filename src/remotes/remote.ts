import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnsafeCacheEntryError } from '../store/untrusted.js';
import type { S3Settings } from './s3-client.js';

/**
 * Where a cache is shared: keys are cache-relative paths (`objects/ab/cd…`, `runs/<key>.json`).
 * Writes are atomic on both kinds (temp + rename here, nginx's temp-file PUT there), so a
 * reader never sees a partial file under its final name.
 */
export interface Remote {
  readonly url: string;
  has(key: string): Promise<boolean>;
  /**
   * Downloads to `dest` and returns the sha256 of the bytes written; false when the remote has
   * no such file. More than `maxBytes` is refused (UnsafeCacheEntryError), not written.
   */
  get(key: string, dest: string, maxBytes?: number): Promise<string | false>;
  /** `onBytes`: bytes sent so far, where the remote can tell mid-object (S3 multipart parts). */
  put(key: string, source: string, onBytes?: (sent: number) => void): Promise<void>;
  /** Releases connections. */
  close(): void;
  /** Listing and deleting, for `cache gc --remote`; absent where the remote cannot list. */
  readonly maintenance?: RemoteMaintenance;
}

/** One stored file of a remote. */
export interface RemoteEntry {
  key: string;
  size: number;
  modified: Date;
}

/** What an interrupted upload left behind: a temp file, an unfinished S3 multipart upload. */
export interface PartialUpload {
  /** As the user would recognise it (a file name, `key (upload id)`). */
  name: string;
  started: Date;
  /** Bytes it holds; 0 where the remote does not say (S3 lists uploads without their parts). */
  size: number;
}

export interface RemoteMaintenance {
  /** Every file whose key starts with `prefix` (`objects/`, `runs/`). */
  list(prefix: string): AsyncIterable<RemoteEntry>;
  remove(key: string): Promise<void>;
  partialUploads(): AsyncIterable<PartialUpload>;
  discard(upload: PartialUpload): Promise<void>;
}

/** `remote:` in pipeline.yaml or .pipeline/config.yaml. */
export interface RemoteConfig extends S3Settings {
  url: string;
  /** Name of the environment variable holding a bearer token (HTTP remotes). */
  token_env?: string;
}

/** Why a download was refused before it filled the disk. */
export function tooLarge(key: string, maxBytes: number, url: string): UnsafeCacheEntryError {
  return new UnsafeCacheEntryError(key, `it is larger than ${maxBytes} bytes`, url);
}

/**
 * Streams a download into `dest` and returns the sha256 of its bytes: hashed as it arrives, so
 * verifying costs no second read; more than `maxBytes` destroys the stream with tooLarge.
 */
export async function saveHashed(body: Readable, dest: string, key: string, maxBytes: number, url: string): Promise<string> {
  const hash = createHash('sha256');
  let received = 0;
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    if (received > maxBytes) body.destroy(tooLarge(key, maxBytes, url));
  });
  await pipeline(body, createWriteStream(dest));
  return hash.digest('hex');
}
