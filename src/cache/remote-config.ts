import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { UserError } from '../errors.js';
import type { Project } from '../spec/model.js';
import { openRemote, type Remote, type RemoteConfig } from './remote.js';

/**
 * The remote to use, most local first: `PIPELINE_REMOTE` (a URL), `.pipeline/config.yaml`
 * (per clone, not committed: a path on this machine, a token variable), then pipeline.yaml.
 */
export function resolveRemote(project: Project): Remote {
  const fromEnv = process.env.PIPELINE_REMOTE;
  if (fromEnv) return openRemote({ url: fromEnv, ...(process.env.PIPELINE_REMOTE_TOKEN_ENV ? { token_env: process.env.PIPELINE_REMOTE_TOKEN_ENV } : {}) }, project.dir);
  const local = localConfig(project.dir);
  const config = local ?? project.remote;
  if (!config) {
    throw new UserError(
      'no cache remote is configured: add `remote: { url: /shared/cache }` (or an http(s):// WebDAV URL, with token_env: VAR for a bearer token) to pipeline.yaml or .pipeline/config.yaml, or set PIPELINE_REMOTE',
      { file: project.specFile },
    );
  }
  return openRemote(config, project.dir);
}

function localConfig(projectDir: string): RemoteConfig | undefined {
  const file = path.join(projectDir, '.pipeline', 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) as { remote?: RemoteConfig } | null;
  if (data?.remote && typeof data.remote.url !== 'string') {
    throw new UserError('remote.url must be a string (a directory or an http(s):// URL)', { file: '.pipeline/config.yaml' });
  }
  return data?.remote;
}
