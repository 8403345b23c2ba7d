import path from 'node:path';
import { UserError } from '../errors.js';
import { DirectoryRemote } from './directory.js';
import { HttpRemote } from './http.js';
import { S3Remote } from './s3.js';
import type { Remote, RemoteConfig } from './remote.js';

/** How to open one kind of remote; `schemes` are the URL schemes it serves. */
export interface RemoteKind {
  schemes: string[];
  description: string;
  open(config: RemoteConfig, projectDir: string): Remote;
}

const http: RemoteKind = {
  schemes: ['http', 'https'],
  description: 'an HTTP/WebDAV server that takes PUT (token_env: a variable holding a bearer token)',
  open(config) {
    const token = config.token_env ? process.env[config.token_env] : undefined;
    if (config.token_env && !token) throw new UserError(`remote ${config.url}: the environment variable ${config.token_env} (token_env) is not set`);
    return new HttpRemote(config.url.replace(/\/+$/, ''), token);
  },
};

const directory: RemoteKind = {
  schemes: ['file'],
  description: 'a directory on a shared filesystem (a path, or a file:// URL)',
  open: (config, projectDir) => new DirectoryRemote(config.url.startsWith('file://') ? new URL(config.url).pathname : path.resolve(projectDir, config.url)),
};

const s3: RemoteKind = {
  schemes: ['s3'],
  description: 'an S3 bucket: AWS, MinIO, Ceph, R2 (endpoint_url, region, profile, path_style; else the AWS SDK environment and ~/.aws files)',
  open: (config) => new S3Remote(config.url.replace(/\/+$/, ''), config),
};

/** Every kind of remote: a new one is a file in src/remotes/ plus one entry here. */
export const remoteKinds: readonly RemoteKind[] = [directory, http, s3];

/** Opens the remote a URL names; a plain path is a directory. */
export function openRemote(config: RemoteConfig, projectDir: string): Remote {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(config.url)?.[1]?.toLowerCase() ?? 'file';
  const kind = remoteKinds.find((k) => k.schemes.includes(scheme));
  if (!kind) {
    const known = remoteKinds.flatMap((k) => k.schemes.map((s) => `${s}://`)).join(', ');
    throw new UserError(`remote ${config.url}: no remote serves ${scheme}:// (known: ${known}, or a directory path)`);
  }
  return kind.open(config, projectDir);
}
