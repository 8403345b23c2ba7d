import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { UserError } from '../errors.js';
import { XMLParser } from 'fast-xml-parser';
import { UnsafeCacheEntryError } from '../store/untrusted.js';
import { saveHashed, tooLarge, type PartialUpload, type Remote, type RemoteEntry, type RemoteMaintenance } from './remote.js';

/** One entry of a WebDAV PROPFIND answer (RFC 4918 multistatus), as fast-xml-parser reads it without namespaces. */
interface DavProps {
  getcontentlength?: number | string;
  getlastmodified?: string;
  resourcetype?: { collection?: unknown } | string;
}
interface DavResponse {
  href: string;
  propstat?: { prop?: DavProps } | { prop?: DavProps }[];
}

/** An HTTP server that takes PUT (WebDAV: nginx, Apache); an optional bearer token. */
export class HttpRemote implements Remote {
  private readonly agent: http.Agent;
  /** Listing through WebDAV's PROPFIND (nginx: dav_ext_methods PROPFIND), for `cache gc --remote`. */
  readonly maintenance: RemoteMaintenance;

  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {
    // Keep-alive: a push is many small requests (HEAD, then PUT) to one server.
    this.agent = new (url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 16 });
    this.maintenance = {
      list: (prefix) => this.list(prefix),
      remove: (key) => this.remove(key),
      // nginx and Apache write a PUT's body to their own temp folder and rename it into place
      // when it is complete: an interrupted push leaves nothing under the served tree.
      partialUploads: async function* (): AsyncIterable<PartialUpload> {},
      discard: async () => {},
    };
  }

  /** The files and folders directly inside `dir/` (Depth: 1). */
  private async propfind(dir: string): Promise<{ key: string; folder: boolean; size: number; modified: Date }[]> {
    const response = await this.request('PROPFIND', dir.replace(/\/?$/, '/'), undefined, { depth: '1' });
    if (response.statusCode === 404) {
      response.resume();
      return [];
    }
    if (response.statusCode !== 207) {
      response.resume();
      const hint = response.statusCode === 405 || response.statusCode === 501 ? ' (the server does not list folders over WebDAV; nginx needs libnginx-mod-http-dav-ext and `dav_ext_methods PROPFIND`), so `cache gc --remote` cannot tell what is unused there' : '';
      throw new UserError(`remote ${this.url}: PROPFIND ${dir}/ answered ${response.statusCode}${hint}`, undefined, 4);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const parsed = new XMLParser({ removeNSPrefix: true, isArray: (name) => name === 'response' }).parse(Buffer.concat(chunks).toString('utf8')) as { multistatus?: { response?: DavResponse[] } };
    const base = new URL(`${this.url}/`).pathname;
    const entries = [];
    for (const item of parsed.multistatus?.response ?? []) {
      const href = decodeURIComponent(new URL(String(item.href), `${this.url}/`).pathname);
      if (!href.startsWith(base)) continue;
      const key = href.slice(base.length).replace(/\/$/, '');
      if (key === dir.replace(/\/$/, '')) continue; // the folder itself
      const prop = (Array.isArray(item.propstat) ? item.propstat[0] : item.propstat)?.prop;
      const folder = href.endsWith('/') || (typeof prop?.resourcetype === 'object' && prop.resourcetype !== null && 'collection' in prop.resourcetype);
      entries.push({ key, folder, size: Number(prop?.getcontentlength ?? 0), modified: new Date(prop?.getlastmodified ?? 0) });
    }
    return entries;
  }

  private async *list(prefix: string): AsyncIterable<RemoteEntry> {
    const folders = [prefix.replace(/\/$/, '')];
    while (folders.length) {
      for (const entry of await this.propfind(folders.pop()!)) {
        if (entry.folder) folders.push(entry.key);
        else yield { key: entry.key, size: entry.size, modified: entry.modified };
      }
    }
  }

  private async remove(key: string): Promise<void> {
    const response = await this.request('DELETE', key);
    response.resume();
    if (response.statusCode !== 404 && (response.statusCode === undefined || response.statusCode < 200 || response.statusCode >= 300)) this.fail('DELETE', key, response);
  }

  /**
   * node:http rather than fetch: bodies stream straight between the socket and the file,
   * which measured about twice fetch's throughput on loopback.
   */
  private request(method: string, key: string, body?: string, extraHeaders: Record<string, string> = {}): Promise<http.IncomingMessage> {
    const target = new URL(`${this.url}/${key}`);
    const client = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...extraHeaders, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
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
    try {
      return await saveHashed(response, dest, key, maxBytes, this.url);
    } catch (error) {
      if (error instanceof UnsafeCacheEntryError) throw error;
      throw new UserError(`remote ${this.url}: GET ${key} broke off (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, 4);
    }
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
