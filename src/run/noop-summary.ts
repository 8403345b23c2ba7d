import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { globSync } from 'tinyglobby';
import { builtinDeclarations } from '../../stages/registry.js';
import { ProjectLayout } from '../store/layout.js';
import { isDiskFull } from '../disk-full.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { dirSignature, fileSignature, treeSignatureOf } from '../hash/content-hasher.js';
import { sha256Text } from '../hash/sha256.js';
import type { Project } from '../spec/model.js';
import type { Workspace } from './workspace.js';

/**
 * The no-op shortcut. After a full run in which every stage ended up to date, we note the stat
 * signature of every path the run looked at (deps, outs, their directories) and a hash of
 * every input that shapes the graph (spec, params and config files, lock, matrix glob
 * matches, pipeline's own version). If all of that is unchanged, every key and every out is
 * unchanged, so the next `pipeline run` can say "up to date" after a stat per path, without
 * parsing a 10,000-stage spec or recomputing a key. Anything different: the full path runs.
 */
interface Summary {
  schema: 3;
  /** The project root, relative to the spec's folder ('' unless a dvc.yaml sits in a subfolder). */
  root: string;
  /** pipeline.lock, relative to the root. */
  lockFile: string;
  /** The files hashed into `inputs`. */
  files: string[];
  inputs: string;
  globs: { pattern: string; matches: string[] }[];
  ids: string[];
  paths: [string, string][];
}

/** Signatures newer than this are not trusted: a same-tick rewrite would keep them. */
const RACY_WINDOW_NS = 50_000_000n;

const engineVersion = (() => {
  const pkg = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return [readOr(pkg, ''), ...builtinDeclarations.map((d) => `${d.name}@${d.version}`)].join('\0');
})();

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function summaryFile(specDir: string): string {
  return new ProjectLayout(specDir).state('noop.json');
}

/** `files` and the lock are relative to the project root (for a dvc.yaml in a subfolder, its repository's). */
function inputsHash(root: string, files: string[], lockFile: string): string {
  const parts = [engineVersion];
  for (const file of [...new Set([...files, lockFile])].sort()) parts.push(file, readOr(path.join(root, file), '\0missing'));
  return sha256Text(parts.join('\0'));
}

export function inputFilesOf(project: Project): string[] {
  return [...new Set([...project.inputFiles, ...project.instances.flatMap((i) => i.paramFiles)])];
}

/** Records the summary after a full, successful, all-up-to-date-or-done run (call after the lock is flushed). */
export function writeSummary(ws: Workspace): void {
  const file = summaryFile(ws.project.specDir);
  const now = BigInt(Date.now()) * 1_000_000n;
  const paths: [string, string][] = [];
  for (const [rel, sig] of ws.hasher.observed.entries()) {
    const mtime = sig === 'missing' ? 0n : sig.startsWith('T') ? BigInt(sig.slice(1, sig.indexOf(':'))) : BigInt(sig.split(':')[sig.startsWith('d') ? 1 : 2]);
    if (mtime > now - RACY_WINDOW_NS) {
      rmSync(file, { force: true });
      return;
    }
    paths.push([rel, sig]);
  }
  const files = inputFilesOf(ws.project);
  const lockFile = path.relative(ws.project.dir, ws.layout.lockFile);
  const summary: Summary = {
    schema: 3,
    root: path.relative(ws.project.specDir, ws.project.dir),
    lockFile,
    files,
    inputs: inputsHash(ws.project.dir, files, lockFile),
    globs: ws.project.globs,
    ids: ws.project.instances.map((i) => i.id),
    paths,
  };
  try {
    writeFileAtomic(file, JSON.stringify(summary));
  } catch (error) {
    // Only a shortcut for the next no-op; without it that run checks every stage.
    if (!isDiskFull(error)) throw error;
  }
}

export function forgetSummary(specDir: string): void {
  rmSync(summaryFile(specDir), { force: true });
}

/** The instance ids, when nothing has changed since the summary was written; otherwise undefined. */
export function unchangedSinceSummary(specDir: string): string[] | undefined {
  let summary: Summary;
  try {
    summary = JSON.parse(readFileSync(summaryFile(specDir), 'utf8')) as Summary;
  } catch {
    return undefined;
  }
  if (summary.schema !== 3) return undefined;
  const projectDir = path.resolve(specDir, summary.root);
  if (inputsHash(projectDir, summary.files, summary.lockFile) !== summary.inputs) return undefined;
  for (const { pattern, matches } of summary.globs) {
    const now = globSync(pattern, { cwd: projectDir, onlyFiles: true, expandDirectories: false }).sort();
    if (now.length !== matches.length || now.some((m, i) => m !== matches[i])) return undefined;
  }
  for (const [rel, sig] of summary.paths) {
    const abs = path.resolve(projectDir, rel);
    if (sig.startsWith('T')) {
      if (treeSignatureOf(abs) !== sig) return undefined;
      continue;
    }
    const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
    const now = !stats ? 'missing' : stats.isDirectory() ? dirSignature(stats) : fileSignature(stats);
    if (now !== sig) return undefined;
  }
  return summary.ids;
}
