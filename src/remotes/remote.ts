import { UnsafeCacheEntryError } from '../store/untrusted.js';

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
  put(key: string, source: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}

export interface RemoteConfig {
  url: string;
  /** Name of the environment variable holding a bearer token (HTTP remotes). */
  token_env?: string;
}

/** Why a download was refused before it filled the disk. */
export function tooLarge(key: string, maxBytes: number, url: string): UnsafeCacheEntryError {
  return new UnsafeCacheEntryError(key, `it is larger than ${maxBytes} bytes`, url);
}
