import { existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { checkSinceSummary, fastNoop, readSummary, summaryFile, type Summary, type SummaryCheck } from '../run/noop-check.js';
import { ProjectLayout } from '../store/layout.js';
import { ChangeWatcher } from './change-watcher.js';
import { fileIdentity } from '../fs-atomic.js';
import { ResidentWorkspace } from './resident.js';
import { buildId, commandOf, environmentDifference, messageReader, runEnvironment, socketPath, type ClientMessage, type DaemonMessage } from './protocol.cjs';

export interface DaemonOptions {
  specDir: string;
  /** Exits after this long without a request. */
  idleMs: number;
}

type RunRequest = Extract<ClientMessage, { type: 'run' }>;

/**
 * What the run writes, batched per turn of the event loop (a --json run writes a line per
 * stage: a thousand socket messages otherwise), in order across stdout and stderr.
 */
class ClientOutput {
  private pending: { type: 'stdout' | 'stderr'; text: string }[] = [];
  private scheduled = false;

  constructor(private readonly send: (message: DaemonMessage) => void) {}

  write(type: 'stdout' | 'stderr', text: string): void {
    const last = this.pending.at(-1);
    if (last?.type === type) last.text += text;
    else this.pending.push({ type, text });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    for (const message of this.pending) this.send(message);
    this.pending = [];
  }
}

/** A client's terminal or pipe, as the run inside the daemon writes to it. */
class ClientStream extends Writable {
  constructor(
    output: ClientOutput,
    type: 'stdout' | 'stderr',
    readonly isTTY: boolean,
    readonly columns: number | undefined,
  ) {
    super({ decodeStrings: false, write: (chunk: string | Buffer, _encoding, done) => (output.write(type, chunk.toString()), done()) });
  }
}

/** Swaps the process's stdout and stderr for the client's while `work` runs (one run at a time). */
async function withClientOutput<T>(request: RunRequest, send: (message: DaemonMessage) => void, work: () => Promise<T>): Promise<T> {
  const columns = request.tty.columns;
  const output = new ClientOutput(send);
  const streams = {
    stdout: new ClientStream(output, 'stdout', request.tty.stdout, columns),
    stderr: new ClientStream(output, 'stderr', request.tty.stderr, columns),
  };
  const saved = { stdout: Object.getOwnPropertyDescriptor(process, 'stdout')!, stderr: Object.getOwnPropertyDescriptor(process, 'stderr')! };
  const cwd = process.cwd();
  for (const name of ['stdout', 'stderr'] as const) Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => streams[name] });
  process.chdir(request.cwd);
  try {
    return await work();
  } finally {
    process.chdir(cwd);
    Object.defineProperty(process, 'stdout', saved.stdout);
    Object.defineProperty(process, 'stderr', saved.stderr);
    output.flush();
  }
}

/**
 * `pipeline daemon`: a resident process per project that runs `pipeline run` for the command
 * line. It keeps the engine loaded and compiled, and it hears file changes (ChangeWatcher), so
 * a no-op is a socket round trip and a run after an edit stats only what changed. The command
 * line falls back to running by itself whenever the daemon would not be the same run: another
 * build of pipeline, another environment (stages inherit it), another project.
 */
export async function serveDaemon(options: DaemonOptions): Promise<void> {
  const specDir = path.resolve(options.specDir);
  const socket = socketPath(specDir);
  if (existsSync(socket)) {
    const alive = await new Promise<boolean>((resolve) => connect(socket).on('connect', function (this: Socket) { this.end(); resolve(true); }).on('error', () => resolve(false)));
    if (alive) throw new Error(`a daemon already serves ${specDir} (pipeline daemon stop)`);
    rmSync(socket, { force: true });
  }
  const build = buildId();
  const environment = runEnvironment(process.env);
  const { main } = await import('../cli/main.js');
  const resident = new ResidentWorkspace();
  const summaryPath = summaryFile(specDir);
  const watcher = new ChangeWatcher(specDir, path.join(new ProjectLayout(specDir).state('noop.json'), '..', 'daemon'));
  // The summary the watcher's marks are relative to, by its file's signature.
  let summary: Summary | undefined;
  let summarySignature = 'none';
  const refresh = (ownWrite: boolean) => {
    const now = fileIdentity(summaryPath);
    if (now === summarySignature) return;
    summarySignature = now;
    summary = readSummary(specDir);
    // Written by a run that did not go through us: what we heard is relative to an older one.
    if (!ownWrite) watcher.reset();
  };
  refresh(false);
  watcher.arm(summary);

  const since = Date.now();
  let served = 0;
  let queue = Promise.resolve();
  let running = 0;
  let idle: NodeJS.Timeout | undefined;
  const server = createServer();
  const stop = () => {
    watcher.close();
    server.close();
    rmSync(socket, { force: true });
    process.exit(0);
  };
  // After the run in progress (a stop request, SIGTERM, idleness): a training run is never cut off.
  const stopWhenIdle = () => void queue.then(stop);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => (running > 0 ? touch() : stop()), options.idleMs);
  };
  touch();

  const run = async (request: RunRequest, send: (message: DaemonMessage) => void): Promise<void> => {
    if (request.build !== build) {
      send({ type: 'fallback', reason: 'pipeline was rebuilt or upgraded since the daemon started; it stops' });
      return stop();
    }
    if (socketPath(path.dirname(path.resolve(request.cwd, commandOf(request.argv).file ?? 'pipeline.yaml'))) !== socket) return send({ type: 'fallback', reason: 'another project (a socket name collision)' });
    const differs = environmentDifference(request.env, environment);
    if (differs.length) return send({ type: 'fallback', reason: `the environment differs from the daemon's (${differs.join(', ')}); restart it from this shell` });
    refresh(false);
    watcher.arm(summary);
    await watcher.sync();
    const snapshot = watcher.snapshot();
    // Whether this request compared every dirty path with the summary and found it unchanged.
    let verified = false;
    const check = async (specFile: string): Promise<SummaryCheck> => {
      const ours = path.dirname(specFile) === specDir;
      const result = ours && summary?.root === '' ? await checkSinceSummary(specFile, { summary, clean: snapshot.clean }) : await checkSinceSummary(specFile);
      verified = ours && result.upToDate !== undefined;
      return result;
    };
    const before = summarySignature;
    let code = 70;
    try {
      code = await withClientOutput(request, send, async () => {
        const fast = await fastNoop(request.argv, check);
        return 'code' in fast ? fast.code : main(['node', 'pipeline', ...request.argv], fast.checked, resident);
      });
    } catch (error) {
      send({ type: 'stderr', text: `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` });
    } finally {
      send({ type: 'exit', code });
      served++;
      try {
        // The run's state (stat cache, lock mirror, no-op summary) is saved after the answer; the next request waits for it.
        await resident.settled();
      } catch (error) {
        console.error("pipeline daemon: saving the run's state failed:", error);
      }
      refresh(true);
      snapshot.settle(summarySignature !== before || verified);
    }
    watcher.arm(summary);
  };

  server.on('connection', (client) => {
    const send = (message: DaemonMessage) => {
      if (!client.destroyed) client.write(JSON.stringify(message) + '\n');
    };
    client.on('error', () => undefined);
    client.on(
      'data',
      messageReader<ClientMessage>((message) => {
        touch();
        if (message.type === 'run') {
          running++;
          queue = queue
            .then(() => run(message, send))
            .catch((error: unknown) => {
              send({ type: 'stderr', text: `pipeline daemon: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` });
              send({ type: 'exit', code: 70 });
            })
            .finally(() => {
              running--;
              touch();
              client.end();
            });
        }
        // Whatever the client was sent: the run cancels (a SIGTERM to the daemon itself stops it).
        else if (message.type === 'signal') process.emit('SIGINT', 'SIGINT');
        else if (message.type === 'status') {
          send({ type: 'status', pid: process.pid, specDir, since, served, watched: watcher.watchedFolders, build });
          client.end();
        } else if (message.type === 'stop') {
          client.end(stopWhenIdle);
        }
      }),
    );
  });
  await new Promise<void>((resolve, reject) => server.listen(socket, resolve).on('error', reject));
  // Through console, whose stream binds at its first use: later console output from anywhere lands in the daemon's log, not in a client's.
  console.error(`pipeline daemon ${process.pid}: serving ${specDir} on ${socket}`);
  // A run in progress hears SIGTERM too, and cancels as it would at a terminal.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, stopWhenIdle);
}
