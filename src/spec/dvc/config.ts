import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, type SourceLocation } from '../../errors.js';
import type { RemoteConfig } from '../../remotes/remote.js';
import { DEFAULT_PARSING, type ParsingConfig } from './unpack.js';

/** One `key = value` of a DVC config file, and where it was written. */
interface Setting {
  value: string;
  where: SourceLocation;
}

/**
 * A DVC repository's `.dvc/config`, then `.dvc/config.local` (per clone, not committed, where
 * DVC keeps credentials), which wins: section name -> key -> setting, as DVC's INI reads them.
 */
function readDvcConfig(repoRoot: string): Map<string, Map<string, Setting>> {
  const sections = new Map<string, Map<string, Setting>>();
  for (const name of ['config', 'config.local']) {
    const file = path.join(repoRoot, '.dvc', name);
    if (!existsSync(file)) continue;
    let section = '';
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .forEach((raw, index) => {
        const line = raw.replace(/^\s*[#;].*$/, '').trim();
        const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
        if (header) section = header[1]!.replace(/^'|'$/g, '').replace(/\s+/g, ' ').trim();
        const pair = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
        if (!pair) return;
        const settings = sections.get(section) ?? new Map<string, Setting>();
        settings.set(pair[1]!, { value: pair[2]!.trim(), where: { file: path.posix.join('.dvc', name), line: index + 1 } });
        sections.set(section, settings);
      });
  }
  return sections;
}

/** The `[parsing]` section, as DVC reads it. */
export function parsingConfig(repoRoot: string): ParsingConfig {
  const parsing: ParsingConfig = { ...DEFAULT_PARSING };
  for (const [key, { value, where }] of readDvcConfig(repoRoot).get('parsing') ?? []) {
    if (key === 'bool') {
      if (value !== 'store_true' && value !== 'boolean_optional') throw new UserError(`parsing.bool must be store_true or boolean_optional (got ${value})`, where);
      parsing.bool = value;
    } else if (key === 'list') {
      if (value !== 'nargs' && value !== 'append') throw new UserError(`parsing.list must be nargs or append (got ${value})`, where);
      parsing.list = value;
    }
  }
  return parsing;
}

/** The repository's default DVC remote (`core.remote`) as a pipeline remote, or why it cannot be one. */
export type DvcRemote = { config: RemoteConfig; name: string } | { unsupported: string; name: string };

/**
 * DVC's default remote, so `pipeline cache push` goes where `dvc push` does. pipeline's objects
 * (`objects/`, `runs/`) and DVC's (`files/md5/`) do not collide under one prefix. Relative
 * paths are relative to `.dvc/`, as DVC resolves them; `webdav(s)://` is pipeline's HTTP remote.
 */
export function dvcDefaultRemote(repoRoot: string): DvcRemote | undefined {
  if (!existsSync(path.join(repoRoot, '.dvc'))) return undefined;
  const config = readDvcConfig(repoRoot);
  const name = config.get('core')?.get('remote')?.value;
  if (!name) return undefined;
  const section = config.get(`remote "${name}"`);
  const url = section?.get('url')?.value;
  if (!url) return { name, unsupported: `.dvc/config names remote "${name}" as core.remote but has no url for it` };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  const get = (key: string) => section?.get(key)?.value;
  if (scheme === undefined) return { name, config: { url: path.resolve(repoRoot, '.dvc', url) } };
  if (scheme === 'webdav' || scheme === 'webdavs') return { name, config: { url: url.replace(/^webdav/i, 'http') } };
  if (scheme === 'http' || scheme === 'https') return { name, config: { url } };
  if (scheme === 's3') {
    const keyId = get('access_key_id');
    const secret = get('secret_access_key');
    return {
      name,
      config: {
        url,
        ...(get('endpointurl') ? { endpoint_url: get('endpointurl')! } : {}),
        ...(get('region') ? { region: get('region')! } : {}),
        ...(get('profile') ? { profile: get('profile')! } : {}),
        ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret, ...(get('session_token') ? { sessionToken: get('session_token')! } : {}) } } : {}),
      },
    };
  }
  return { name, unsupported: `the DVC remote "${name}" is ${scheme}://, which pipeline does not serve (it serves a directory, http(s)/WebDAV and s3://)` };
}
