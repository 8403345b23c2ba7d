import path from 'node:path';
import { ProjectLock } from '../run/project-lock.js';
import type { Common } from './common.js';

export async function watchCommand(targets: string[], options: Common & { jobs: number; gpus?: string; setParam?: string[]; debounce: number; json?: boolean; executor?: string }): Promise<number> {
  const { WatchSession } = await import('../watch/watch-session.js');
  const reporters = await import('../watch/watch-reporter.js');
  const reporter = options.json ? new reporters.JsonWatchReporter() : process.stderr.isTTY ? new reporters.TtyWatchReporter() : new reporters.PlainWatchReporter();
  const projectLock = new ProjectLock(path.dirname(path.resolve(options.file)));
  await projectLock.acquire({ wait: true, onWait: (holder) => reporter.emit({ event: 'waiting', holder }) });
  const gpus = options.gpus?.split(',').map((s) => s.trim()).filter(Boolean);
  const session = new WatchSession(
    { specFile: options.file, targets, jobs: options.jobs, ...(gpus?.length ? { gpus } : {}), ...(options.setParam ? { setParam: options.setParam } : {}), ...(options.executor ? { executor: options.executor } : {}), debounceMs: options.debounce },
    reporter,
  );
  await session.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await session.stop();
  reporter.end();
  projectLock.release();
  return 0;
}
