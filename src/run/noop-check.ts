import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinDeclarations } from '../../stages/registry.js';
import { fileSignature, treeSignatureInParallel, treeSignatureOf, type FolderSignatures } from '../hash/tree-signature.js';
import { sha256Text } from '../hash/sha256.js';
import { commandOf } from '../daemon/protocol.cjs';
import { ProjectLayout } from '../store/layout.js';
import { dim, green } from '../ui/format.js';
import type { Unchanged } from '../hash/content-hasher.js';

/**
 * The no-op shortcut's reading side (its writing side is `noop-summary.ts`). It runs before the
 * command line parser, the spec loader or the engine load, so its imports are Node built-ins
 * and a handful of small modules: a no-op's cost is Node's start plus a stat per path.
 */
export interface Summary {
  schema: 6;
  /** The spec file it summarizes, relative to its folder (two specs in one folder share the summary's file). */
  spec: string;
  /** The project root, relative to the spec's folder ('' unless a dvc.yaml sits in a subfolder). */
  root: string;
  /** pipeline.lock, relative to the root. */
  lockFile: string;
  /** The files hashed into `inputs`. */
  files: string[];
  inputs: string;
  globs: { pattern: string; matches: string[] }[];
  ids: string[];
  /**
   * Every path the run looked at, by stat signature; with its hash when it had one: a file's
   * (and its executable bit, 0/1), a directory's (its file count, and its folders' digests).
   */
  paths: ([rel: string, sig: string] | [rel: string, sig: string, hash: string, execOrFiles: number, folders?: Record<string, string>])[];
}

/** What the check found: up to date (the instance ids), or what is still as the summary has it. */
export interface SummaryCheck {
  upToDate?: string[];
  known: Unchanged;
}

/** A directory dep of this many files (as last hashed) is re-signed on every core: a thread costs ~40 ms to start. */
const PARALLEL_FILES = 50_000;
const cores = Math.min(availableParallelism(), 8);

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

export function summaryFile(specDir: string): string {
  return new ProjectLayout(specDir).state('noop.json');
}

/** `files` and the lock are relative to the project root (for a dvc.yaml in a subfolder, its repository's). */
export function inputsHash(root: string, files: string[], lockFile: string): string {
  const parts = [engineVersion];
  for (const file of [...new Set([...files, lockFile])].sort()) parts.push(file, readOr(path.join(root, file), '\0missing'));
  return sha256Text(parts.join('\0'));
}

/** The summary on disk, if there is one this version reads. */
export function readSummary(specDir: string): Summary | undefined {
  try {
    const summary = JSON.parse(readFileSync(summaryFile(specDir), 'utf8')) as Summary;
    return summary.schema === 6 ? summary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a caller that watches the disk already knows: `summary` (as read), and `clean(rel)`,
 * true for a path (file or directory, relative to the project root) that nothing has touched
 * since the summary was written, which is then taken as the summary has it without a stat.
 */
export interface WatchedState {
  summary: Summary | undefined;
  clean: (rel: string) => boolean;
}

/**
 * Compares everything the summary lists with the disk. Past the first difference it goes on:
 * the run that follows needs every path's hash, and those still as the summary has them it
 * takes from here (`known`) instead of statting them a second time.
 */
export async function checkSinceSummary(specFile: string, watched?: WatchedState): Promise<SummaryCheck> {
  const known: Unchanged = { paths: new Map(), folders: new Map() };
  const specDir = path.dirname(path.resolve(specFile));
  const summary = watched ? watched.summary : readSummary(specDir);
  if (!summary || summary.spec !== path.basename(specFile)) return { known };
  const clean = watched?.clean ?? (() => false);
  const projectDir = path.resolve(specDir, summary.root);
  const inputsClean = summary.files.every(clean) && clean(summary.lockFile);
  let same = inputsClean || inputsHash(projectDir, summary.files, summary.lockFile) === summary.inputs;
  if (same && summary.globs.length > 0) {
    // Only a spec with matrix globs pays for the glob library.
    const { matrixGlobMatches } = await import('../spec/matrix-glob.js');
    same = summary.globs.every(({ pattern, matches }) => {
      const now = matrixGlobMatches(pattern, projectDir);
      return now.length === matches.length && now.every((m, i) => m === matches[i]);
    });
  }
  known.sameInputs = same;
  for (const [rel, sig, hash, execOrFiles, folders] of summary.paths) {
    if (clean(rel)) {
      if (sig === 'missing') known.paths.set(rel, { sig, hash: { kind: 'missing', hash: 'missing' } });
      else if (hash !== undefined) {
        if (sig.startsWith('T')) known.paths.set(rel, { sig, hash: { kind: 'dir', hash, files: execOrFiles ?? 0 }, ...(folders ? { folders } : {}) });
        else known.paths.set(rel, { sig, hash: { kind: 'file', hash, exec: execOrFiles === 1 } });
      }
      continue;
    }
    const abs = path.resolve(projectDir, rel);
    if (sig.startsWith('T')) {
      const tree = (execOrFiles ?? 0) >= PARALLEL_FILES && cores > 1 ? await treeSignatureInParallel(abs, cores) : treeSignatureOf(abs);
      if (tree?.sig === sig) {
        const digests = folders ?? (tree.folders ? Object.fromEntries([...tree.folders].map(([inner, f]) => [inner, f.digest])) : undefined);
        if (hash !== undefined) known.paths.set(rel, { sig, hash: { kind: 'dir', hash, files: execOrFiles! }, ...(digests ? { folders: digests } : {}) });
        continue;
      }
      same = false;
      if (tree?.folders && folders) {
        const trusted: FolderSignatures = new Map();
        for (const [inner, folder] of tree.folders) if (folders[inner] === folder.digest) trusted.set(inner, folder);
        known.folders.set(rel, { trusted, files: execOrFiles ?? 0 });
      }
      continue;
    }
    const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
    // A file that became a directory differs in its mode, so its signature differs too.
    const now = stats ? fileSignature(stats) : 'missing';
    if (now !== sig) {
      same = false;
      continue;
    }
    if (sig === 'missing') known.paths.set(rel, { sig, hash: { kind: 'missing', hash: 'missing' } });
    else if (hash !== undefined) known.paths.set(rel, { sig, hash: { kind: 'file', hash, exec: execOrFiles === 1 } });
  }
  return same ? { upToDate: summary.ids, known } : { known };
}

/** Says "up to date" as a full `pipeline run` would. */
export function reportUpToDate(ids: string[], json: boolean, started: number): void {
  if (json) {
    const lines = ids.map((id) => JSON.stringify({ event: 'skipped', stage: id, reason: 'up-to-date' }));
    lines.push(JSON.stringify({ event: 'done', ok: true, ran: 0, restored: 0, up_to_date: ids.length, failed: 0, duration_ms: Date.now() - started }));
    process.stdout.write(lines.join('\n') + '\n');
  } else {
    process.stderr.write(`${green('done')}: everything is up to date (${ids.length} stage instances, nothing changed since the last full run) ${dim(`in ${((Date.now() - started) / 1000).toFixed(1)}s`)}\n`);
  }
}

/** Flags of `run` that leave a full run a full run (anything else goes through the parser). */
const plainFlags = new Set(['--json', '--frozen', '--no-wait', '-v', '--verbose', '-k', '--keep-going']);
const jobsFlags = new Set(['-j', '--jobs']);

/**
 * `pipeline [-f FILE] run [plain flags]` answered without loading the engine when nothing has
 * changed (`code`). Otherwise the full command line runs, with its parser's checks and
 * messages, and with `known` when this looked (`checked`).
 */
export async function fastNoop(
  args: readonly string[],
  check: (specFile: string) => Promise<SummaryCheck> = checkSinceSummary,
): Promise<{ code: number } | { checked?: SummaryCheck }> {
  const { file: named, command, rest } = commandOf(args);
  if (command !== 'run') return {};
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (plainFlags.has(arg)) json ||= arg === '--json';
    else if (jobsFlags.has(arg) && /^[1-9]\d*$/.test(rest[i + 1] ?? '')) i++;
    else if (!/^--jobs=[1-9]\d*$/.test(arg)) return {};
  }
  // As the full command line does: a dvc.yaml where there is no pipeline.yaml is the spec.
  const file = named ?? (!existsSync('pipeline.yaml') && existsSync('dvc.yaml') ? 'dvc.yaml' : 'pipeline.yaml');
  const started = Date.now();
  const checked = await check(path.resolve(file));
  if (!checked.upToDate) return { checked };
  reportUpToDate(checked.upToDate, json, started);
  return { code: 0 };
}
