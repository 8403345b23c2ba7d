import { spawnSync } from 'node:child_process';
import { UserError } from '../errors.js';

function git(dir: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1024 ** 3 });
  if (r.error) throw new UserError(`git is not installed or not runnable (${r.error.message}); params and metrics diff compare against a git revision`);
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/** The commit `rev` names, and where the repository's top is; one clear error for each way this fails. */
export function resolveRevision(dir: string, rev: string): { commit: string; top: string } {
  const top = git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new UserError(`${dir} is not in a git repository: params/metrics diff compare the workspace with a git revision (git init, commit pipeline.lock)`);
  const commit = git(dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (!commit.ok) throw new UserError(`unknown revision "${rev}" (a commit, branch or tag; see git log)`);
  return { commit: commit.stdout.trim(), top: top.stdout.trim() };
}

/** A file's content at `commit`, or undefined when it was not committed there. `rel` is relative to `dir`. */
export function showAt(dir: string, commit: string, rel: string): string | undefined {
  const r = git(dir, ['show', `${commit}:./${rel}`]);
  return r.ok ? r.stdout : undefined;
}
