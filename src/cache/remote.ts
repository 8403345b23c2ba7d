import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { tempNameFor } from '../fs-atomic.js';
import { sha256File } from '../hash/sha256.js';
import { UserError } from '../errors.js';
import { UnsafeCacheEntryError } from './untrusted.js';

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

export function openRemote(config: RemoteConfig, projectDir: string): Remote {
  if (/^https?:\/\//.test(config.url)) {
    const token = config.token_env ? process.env[config.token_env] : undefined;
    if (config.token_env && !token) throw new UserError(`remote ${config.url}: the environment variable ${config.token_env} (token_env) is not set`);
    return new HttpRemote(config.url.replace(/\/+$/, ''), token);
  }
  const dir = config.url.startsWith('file://') ? new URL(config.url).pathname : path.resolve(projectDir, config.url);
  return new DirectoryRemote(dir);
}

export class DirectoryRemote implements Remote {
  constructor(readonly url: string) {}

  async has(key: string): Promise<boolean> {
    return existsSync(path.join(this.url, key));
  }

  async get(key: string, dest: string, maxBytes = Infinity): Promise<string | false> {
    const source = path.join(this.url, key);
    const stats = statSync(source, { throwIfNoEntry: false });
    if (!stats) return false;
    if (stats.size > maxBytes) throw tooLarge(key, maxBytes, this.url);
    copyFileSync(source, dest);
    return sha256File(dest);
  }

  close(): void {}

  async put(key: string, source: string): Promise<void> {
    const target = path.join(this.url, key);
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = tempNameFor(target);
    try {
      copyFileSync(source, tmp);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

export class HttpRemote implements Remote {
  private readonly agent: http.Agent;

  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {
    // Keep-alive: a push is many small requests (HEAD, then PUT) to one server.
    this.agent = new (url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 16 });
  }

  /**
   * node:http rather than fetch: bodies stream straight between the socket and the file,
   * which measured about twice fetch's throughput on loopback.
   */
  private request(method: string, key: string, body?: string): Promise<http.IncomingMessage> {
    const target = new URL(`${this.url}/${key}`);
    const client = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = this.token ? { authorization: `Bearer ${this.token}` } : {};
      if (body !== undefined) headers['content-length'] = statSync(body).size;
      const req = client.request(target, { method, headers, agent: this.agent }, resolve);
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(new UserError(`remote ${this.url}: ${method} ${key} failed (${error.code ?? error.message}); is the server up?`, undefined, 4)),
      );
      if (body === undefined) req.end();
      else {
        const file = createReadStream(body);
        file.on('error', reject);
        file.pipe(req);
      }
    });
  }

  private fail(method: string, key: string, response: http.IncomingMessage): never {
    response.resume();
    throw new UserError(`remote ${this.url}: ${method} ${key} answered ${response.statusCode}`, undefined, 4);
  }

  async has(key: string): Promise<boolean> {
    const response = await this.request('HEAD', key);
    response.resume();
    if (response.statusCode === 404) return false;
    if (response.statusCode !== 200) this.fail('HEAD', key, response);
    return true;
  }

  async get(key: string, dest: string, maxBytes = Infinity): Promise<string | false> {
    const response = await this.request('GET', key);
    if (response.statusCode === 404) {
      response.resume();
      return false;
    }
    if (response.statusCode !== 200) this.fail('GET', key, response);
    if (Number(response.headers['content-length']) > maxBytes) {
      response.destroy();
      throw tooLarge(key, maxBytes, this.url);
    }
    // Hashed as it streams in, so verifying a download costs no second read.
    const hash = createHash('sha256');
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received > maxBytes) response.destroy(tooLarge(key, maxBytes, this.url));
    });
    try {
      await pipeline(response, createWriteStream(dest));
    } catch (error) {
      if (error instanceof UnsafeCacheEntryError) throw error;
      throw new UserError(`remote ${this.url}: GET ${key} broke off (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, 4);
    }
    return hash.digest('hex');
  }

  async put(key: string, source: string): Promise<void> {
    const response = await this.request('PUT', key, source);
    response.resume();
    if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode >= 300) this.fail('PUT', key, response);
  }

  close(): void {
    this.agent.destroy();
  }
}

function tooLarge(key: string, maxBytes: number, url: string): UnsafeCacheEntryError {
  return new UnsafeCacheEntryError(key, `it is larger than ${maxBytes} bytes`, url);
}
