import { resolveRemote } from '../remotes/config.js';
import { collectRemoteGarbage, type RemoteGcOptions } from '../store/remote-gc.js';
import type { Workspace } from '../run/workspace.js';
import { dim, formatBytes, red } from '../ui/format.js';

/** `cache gc --remote`: prints what went (or would go) and returns the exit code. */
export async function remoteGc(ws: Workspace, options: RemoteGcOptions, verb: string): Promise<number> {
  const remote = resolveRemote(ws.project);
  try {
    const report = await collectRemoteGarbage(remote, ws.store, ws.lock, options);
    process.stdout.write(
      `${verb} ${report.removedRuns.length} run records and ${report.removedObjects} objects (${formatBytes(report.removedBytes)}) from ${remote.url}; kept ${report.keptRuns} run records, ${report.keptObjects} objects\n`,
    );
    if (report.partial.length) process.stdout.write(`${verb} ${report.partial.length} partial uploads that interrupted pushes left${report.partialBytes ? ` (${formatBytes(report.partialBytes)})` : ''}${dim(': ' + report.partial.slice(0, 5).join(', ') + (report.partial.length > 5 ? ', …' : ''))}\n`);
    for (const refusal of report.refused) process.stdout.write(`${red('refused:')} ${refusal}; a refused record counts as unused unless pipeline.lock names it\n`);
    return 0;
  } finally {
    remote.close();
  }
}
