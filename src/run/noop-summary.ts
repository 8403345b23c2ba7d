import { isUrlDep } from '../paths.js';
import { rmSync, statSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import path from 'node:path';
import { isDiskFull } from '../disk-full.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { RACY_WINDOW_MS } from '../hash/content-hasher.js';
import { sha256File } from '../hash/sha256.js';
import { fileSignature } from '../hash/tree-signature.js';
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

export function inputFilesOf(project: Project): string[] {
  return [...new Set([...project.inputFiles, ...project.instances.flatMap((i) => i.paramFiles)])];
}

/**
 * More bytes than this to re-read: no summary (the next run checks every stage). Every out a
 * run wrote was hashed right after its stage wrote it, so a cold build of 10,000 small stages
 * re-reads 10,000 small files (a fraction of a second); one of a few large models does not.
 */
const MAX_RACY_BYTES = 256 * 1024 * 1024;

/**
 * Records the summary after a full, successful, all-up-to-date-or-done run (call after the lock
 * is flushed). Files written in the last moments of the run (the last stages' outs) have
 * signatures a same-tick rewrite would keep: as git does with racily clean entries, we wait out
 * the window and re-read them; unchanged, they are recorded, so the first no-op after a build
 * is already a shortcut. A directory written that late means no summary.
 */
export async function writeSummary(ws: Workspace): Promise<void> {
  const file = summaryFile(ws.project.specDir);
  const forget = () => rmSync(file, { force: true });
  // A stage that runs every time (dvc.yaml's always_changed) means no run is ever a no-op.
  if (ws.project.instances.some((i) => i.alwaysChanged)) return forget();
  // Nor when a dep lives on a server: it can change without any local file changing.
  if (ws.project.instances.some((i) => i.deps.some(isUrlDep))) return forget();
  const paths: Summary['paths'] = [];
  const racy: { rel: string; sig: string; hash: string }[] = [];
  let racyBytes = 0;
  let newest = 0n;
  for (const [rel, sig] of ws.hasher.observed.entries()) {
    const known = ws.hasher.known(rel);
    if (ws.hasher.racyAtObservation(rel)) {
      if (known?.kind !== 'file' || !sig.startsWith('f')) return forget();
      racyBytes += Number(sig.split(':')[1]);
      if (racyBytes > MAX_RACY_BYTES) return forget();
      racy.push({ rel, sig, hash: known.hash });
      const mtime = BigInt(sig.split(':')[2]!);
      if (mtime > newest) newest = mtime;
    }
    if (known?.kind === 'file' && sig.startsWith('f')) paths.push([rel, sig, known.hash, known.exec ? 1 : 0]);
    else if (known?.kind === 'dir' && sig.startsWith('T')) {
      const folders = ws.hasher.folderDigestsOf(rel);
      paths.push(folders ? [rel, sig, known.hash, known.files, folders] : [rel, sig, known.hash, known.files]);
    } else paths.push([rel, sig]);
  }
  if (racy.length > 0) {
    const waitMs = Number(newest / 1_000_000n) + RACY_WINDOW_MS - Date.now() + 1;
    // An mtime in the future (a clock skew, a `touch -d`) is not waited for.
    if (waitMs > 2 * RACY_WINDOW_MS) return forget();
    await setTimeout(waitMs);
    for (const { rel, sig, hash } of racy) {
      const abs = path.resolve(ws.project.dir, rel);
      const stats = statSync(abs, { bigint: true, throwIfNoEntry: false });
      if (!stats || fileSignature(stats) !== sig || sha256File(abs) !== hash) return forget();
    }
  }
  const files = inputFilesOf(ws.project);
  const lockFile = path.relative(ws.project.dir, ws.layout.lockFile);
  const summary: Summary = {
    schema: 6,
    spec: path.basename(ws.project.specFile),
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
