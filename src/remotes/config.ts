import { UserError } from '../errors.js';
import { readLocalConfig } from '../session/local-config.js';
import type { Project } from '../spec/model.js';
import { openRemote } from './registry.js';
import { dvcDefaultRemote } from '../spec/dvc/config.js';
import type { Remote } from './remote.js';

/**
 * The remote to use, most local first: `PIPELINE_REMOTE` (a URL), `.pipeline/config.yaml`
 * (per clone, not committed: a path on this machine, a token variable), then pipeline.yaml.
 */
export function resolveRemote(project: Project): Remote {
  const fromEnv = process.env.PIPELINE_REMOTE;
  if (fromEnv) return openRemote({ url: fromEnv, ...(process.env.PIPELINE_REMOTE_TOKEN_ENV ? { token_env: process.env.PIPELINE_REMOTE_TOKEN_ENV } : {}) }, project.dir);
  const config = readLocalConfig(project.specDir).remote ?? project.remote;
  if (!config) {
    // A DVC repository's default remote, so `pipeline cache push` goes where `dvc push` does.
    const dvc = dvcDefaultRemote(project.dir) ?? (project.specDir !== project.dir ? dvcDefaultRemote(project.specDir) : undefined);
    if (dvc && 'config' in dvc) {
      process.stderr.write(`remote: DVC's default remote "${dvc.name}" (.dvc/config): ${dvc.config.url}\n`);
      return openRemote(dvc.config, project.dir);
    }
    if (dvc) throw new UserError(`no cache remote is configured, and ${dvc.unsupported}: add \`remote: { url: ... }\` to pipeline.yaml or .pipeline/config.yaml, or set PIPELINE_REMOTE`, { file: project.specFile });
    throw new UserError(
      'no cache remote is configured: add `remote: { url: /shared/cache }` (or an http(s):// WebDAV URL, with token_env: VAR for a bearer token) to pipeline.yaml or .pipeline/config.yaml, or set PIPELINE_REMOTE',
      { file: project.specFile },
    );
  }
  return openRemote(config, project.dir);
}
