import { onDiskFullAsync } from '../disk-full.js';
import { resolveRemote } from '../remotes/config.js';
import { pull, push } from '../store/transfer.js';
import type { Workspace } from '../run/workspace.js';
import { dim, formatBytes, red, yellow } from '../ui/format.js';
import { transferProgress } from '../ui/transfer-progress.js';

export async function transfer(verb: 'push' | 'pull', ws: Workspace, selected: Set<string>): Promise<number> {
  const remote = resolveRemote(ws.project);
  // DVC's `push: false`: that out stays off the remote, and a run record without it there would
  // promise what the remote cannot give; so the whole run stays local (others rerun the stage).
  const kept = verb === 'push' ? [...selected].filter((id) => Object.values(ws.project.byId.get(id)?.outOptions ?? {}).some((o) => o.push === false)) : [];
  const keys = [...selected].filter((id) => !kept.includes(id)).map((id) => ws.lock.get(id)?.key).filter((k): k is string => k !== undefined);
  const unlocked = [...selected].filter((id) => !ws.lock.get(id));
  const progress = transferProgress(verb);
  const started = Date.now();
  let report;
  try {
    report = await onDiskFullAsync(
      () => (verb === 'push' ? push : pull)(ws.store, ws.runs, remote, keys, progress),
      () =>
        verb === 'pull'
          ? { ...ws.cacheFull(`the objects pulled from ${remote.url}`), kept: 'what arrived whole is kept (every object is verified and renamed into place), so the next pull with room fetches only the rest.' }
          : { what: `the objects pushed from ${ws.cacheDir}`, dir: remote.url, kept: 'what arrived is whole and the remote has no record without its objects;', remedy: 'free space on the remote and push again: it sends only what is missing.' },
    );
  } finally {
    progress.end();
    remote.close();
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `${verb}: ${report.runs} run records, ${report.objects} objects (${formatBytes(report.bytes)}, ${formatBytes(report.bytes / Math.max(seconds, 1e-3))}/s) moved, ${report.present} already there ${dim(`· ${remote.url}`)}\n`,
  );
  if (kept.length) process.stderr.write(dim(`kept off the remote (an out has push: false): ${kept.join(', ')}\n`));
  if (unlocked.length) process.stderr.write(dim(`${unlocked.length} stage instances are not in pipeline.lock yet (never run): nothing to ${verb} for them\n`));
  if (report.missing.length) process.stderr.write(yellow(`${report.missing.length} run records ${verb === 'push' ? 'are not in the local cache' : 'are not (completely) on the remote'}\n`));
  if (report.corrupt.length) process.stderr.write(red(`${report.corrupt.length} downloads did not match their hash and were discarded: ${report.corrupt.join(', ')}\n`));
  for (const refusal of report.refused) process.stderr.write(`${red('refused:')} ${refusal}; nothing of it was written, its stage will run instead\n`);
  return report.corrupt.length || report.refused.length ? 1 : 0;
}
