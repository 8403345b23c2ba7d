import { rmSync } from 'node:fs';
import path from 'node:path';
import { isDiskFull } from '../disk-full.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { Project } from '../spec/model.js';
import { inputsHash, summaryFile, type Summary } from './noop-check.js';
import type { Workspace } from './workspace.js';

/**
 * The no-op shortcut. After a full run in which every stage ended up to date, we note the stat
 * signature of every path the run looked at (deps, outs, their directories) and a hash of
 * every input that shapes the graph (spec, params and config files, lock, matrix glob
 * matches, pipeline's own version). If all of that is unchanged, every key and every out is
 * unchanged, so the next `pipeline run` can say "up to date" after a stat per path, without
 * parsing a 10,000-stage spec or recomputing a key. Anything different: the full path runs.
 * This is the writing side; `noop-check.ts` reads it.
 */

/** Signatures newer than this are not trusted: a same-tick rewrite would keep them. */
const RACY_WINDOW_NS = 50_000_000n;

export function inputFilesOf(project: Project): string[] {
  return [...new Set([...project.inputFiles, ...project.instances.flatMap((i) => i.paramFiles)])];
}

/** Records the summary after a full, successful, all-up-to-date-or-done run (call after the lock is flushed). */
export function writeSummary(ws: Workspace): void {
  const file = summaryFile(ws.project.specDir);
  const now = BigInt(Date.now()) * 1_000_000n;
  const paths: Summary['paths'] = [];
  for (const [rel, sig] of ws.hasher.observed.entries()) {
    const mtime = sig === 'missing' ? 0n : sig.startsWith('T') ? BigInt(sig.slice(1, sig.indexOf(':'))) : BigInt(sig.split(':')[sig.startsWith('d') ? 1 : 2]);
    if (mtime > now - RACY_WINDOW_NS) {
      rmSync(file, { force: true });
      return;
    }
    const known = ws.hasher.known(rel);
    if (known?.kind === 'file' && sig.startsWith('f')) paths.push([rel, sig, known.hash, known.exec ? 1 : 0]);
    else if (known?.kind === 'dir' && sig.startsWith('T')) {
      const folders = ws.hasher.foldersOf(rel);
      if (!folders) paths.push([rel, sig, known.hash, known.files]);
      else paths.push([rel, sig, known.hash, known.files, Object.fromEntries([...folders].map(([inner, f]) => [inner, f.digest]))]);
    }
    else paths.push([rel, sig]);
  }
  const files = inputFilesOf(ws.project);
  const lockFile = path.relative(ws.project.dir, ws.layout.lockFile);
  const summary: Summary = {
    schema: 5,
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
