import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { UnsafeCacheEntryError } from '../store/untrusted.js';
import { tooLarge, type Remote } from './remote.js';

/** An HTTP server that takes PUT (WebDAV: nginx, Apache); an optional bearer token. */
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
