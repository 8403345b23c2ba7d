import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempNameFor } from '../fs-atomic.js';
import { UserError } from '../errors.js';

/**
 * Where a cache is shared: keys are cache-relative paths (`objects/ab/cd…`, `runs/<key>.json`).
 * Writes are atomic on both kinds (temp + rename here, nginx's temp-file PUT there), so a
 * reader never sees a partial file under its final name.
 */
export interface Remote {
  readonly url: string;
  has(key: string): Promise<boolean>;
  /** Downloads to `dest`; false when the remote has no such file. */
  get(key: string, dest: string): Promise<boolean>;
  put(key: string, source: string): Promise<void>;
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

  async get(key: string, dest: string): Promise<boolean> {
    const source = path.join(this.url, key);
    if (!existsSync(source)) return false;
    copyFileSync(source, dest);
    return true;
  }

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
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async request(method: string, key: string, body?: Buffer): Promise<Response> {
    try {
      return await fetch(`${this.url}/${key}`, { method, headers: this.headers(), ...(body ? { body: new Blob([new Uint8Array(body)]) } : {}) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new UserError(`remote ${this.url}: ${method} ${key} failed (${cause}); is the server up?`, undefined, 4);
    }
  }

  async has(key: string): Promise<boolean> {
    const response = await this.request('HEAD', key);
    if (response.status === 404) return false;
    if (!response.ok) throw new UserError(`remote ${this.url}: HEAD ${key} answered ${response.status}`, undefined, 4);
    return true;
  }

  async get(key: string, dest: string): Promise<boolean> {
    const response = await this.request('GET', key);
    if (response.status === 404) return false;
    if (!response.ok) throw new UserError(`remote ${this.url}: GET ${key} answered ${response.status}`, undefined, 4);
    writeFileSync(dest, Buffer.from(await response.arrayBuffer()));
    return true;
  }

  async put(key: string, source: string): Promise<void> {
    const response = await this.request('PUT', key, readFileSync(source));
    if (!response.ok) throw new UserError(`remote ${this.url}: PUT ${key} answered ${response.status}`, undefined, 4);
  }
}
