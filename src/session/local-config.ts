import { readFileSync } from 'node:fs';
import jsYaml from 'js-yaml';
import leven from 'leven';
import { UserError } from '../errors.js';
import type { RemoteConfig } from '../remotes/remote.js';
import { ProjectLayout } from '../store/layout.js';

/** `.pipeline/config.yaml`: this clone's settings (a path on this machine, a token variable), never committed. */
export interface LocalConfig {
  remote?: RemoteConfig;
  executor?: string;
}

/** The keys of `remote:` (schema/pipeline.schema.json's remote), with their types. */
const REMOTE_KEYS: Record<string, 'string' | 'boolean'> = { url: 'string', token_env: 'string', endpoint_url: 'string', region: 'string', profile: 'string', path_style: 'boolean' };

export function readLocalConfig(projectDir: string): LocalConfig {
  let text: string;
  try {
    text = readFileSync(new ProjectLayout(projectDir).state('config.yaml'), 'utf8');
  } catch {
    return {};
  }
  const where = { file: '.pipeline/config.yaml' };
  let data: unknown;
  try {
    data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch (error) {
    throw new UserError(`invalid YAML (${(error as Error).message.split('\n')[0]})`, where);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new UserError('expected a mapping with remote: and/or executor:', where);
  const { remote, executor } = data as Record<string, unknown>;
  if (remote !== undefined && (typeof remote !== 'object' || remote === null || typeof (remote as RemoteConfig).url !== 'string')) {
    throw new UserError('remote.url must be a string (a directory, an http(s):// URL or s3://bucket/prefix)', where);
  }
  if (remote) {
    const known = Object.keys(REMOTE_KEYS);
    for (const [key, value] of Object.entries(remote)) {
      const type = REMOTE_KEYS[key];
      if (!type) {
        const near = known.find((k) => leven(k, key) <= 2 || k.startsWith(key));
        throw new UserError(`unknown key "${key}" in remote${near ? `; did you mean "${near}"?` : ''} (valid keys: ${known.join(', ')})`, where);
      }
      if (typeof value !== type) throw new UserError(`remote.${key} must be a ${type}`, where);
    }
  }
  if (executor !== undefined && typeof executor !== 'string') throw new UserError('executor must be a name (local, slurm, ...)', where);
  return { ...(remote ? { remote: remote as RemoteConfig } : {}), ...(executor ? { executor: executor as string } : {}) };
}
