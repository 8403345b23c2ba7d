import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { buildId, messageReader, socketPath, type ClientMessage, type DaemonMessage } from '../daemon/protocol.cjs';
import { ProjectLayout } from '../store/layout.js';
import { dim, formatDuration, green } from '../ui/format.js';
import type { Common } from './common.js';

type Status = Extract<DaemonMessage, { type: 'status' }>;

/** Asks the daemon of `specDir`; undefined when none answers. */
function ask(specDir: string, message: ClientMessage): Promise<Status | 'stopped' | undefined> {
  return new Promise((resolve) => {
    const connection = connect(socketPath(specDir));
    connection.on('connect', () => connection.write(JSON.stringify(message) + '\n'));
    connection.on('data', messageReader<DaemonMessage>((reply) => reply.type === 'status' && resolve(reply)));
    connection.on('error', () => resolve(undefined));
    connection.on('close', () => resolve(message.type === 'stop' ? 'stopped' : undefined));
  });
}

const specDirOf = (options: Common) => path.dirname(path.resolve(options.file));

/** Asks the daemon to stop; true once it is gone, false if it still finishes a run after `waitMs`. */
async function stopDaemon(specDir: string, waitMs: number): Promise<boolean | undefined> {
  if ((await ask(specDir, { type: 'stop' })) !== 'stopped') return undefined;
  for (let waited = 0; waited < waitMs; waited += 50) {
    const status = await ask(specDir, { type: 'status' });
    if (!status || status === 'stopped') return true;
    await sleep(50);
  }
  return false;
}

/** `pipeline daemon start|stop|status` (and `serve`, what `start` runs in the background). */
export function registerDaemonCommand(program: Command, setExit: (code: number) => void): void {
  const daemon = program
    .command('daemon')
    .description('a resident process that runs `pipeline run` for this project: no-ops without a stat per path, runs without start-up');
  daemon
    .command('start')
    .description('start it in the background (it stops after --idle minutes without a run, or on `pipeline daemon stop`)')
    .option('--idle <minutes>', 'stop after this long without a run', (v) => Number(v), 180)
    .action(async (options: { idle: number }) => {
      const common = program.opts<Common>();
      const specDir = specDirOf(common);
      const running = await ask(specDir, { type: 'status' });
      if (running && running !== 'stopped') {
        if (running.build === buildId()) {
          process.stdout.write(`${dim('already running:')} pid ${running.pid}\n`);
          return;
        }
        // Started from another build of pipeline (an upgrade, a rebuild): replace it.
        if ((await stopDaemon(specDir, 10_000)) === false) throw new UserError(`the daemon of another build of pipeline (pid ${running.pid}) still finishes a run; start again after it`);
      }
      const log = new ProjectLayout(specDir).state('noop.json').replace(/noop\.json$/, 'daemon.log');
      mkdirSync(path.dirname(log), { recursive: true });
      const fd = openSync(log, 'a');
      const bin = fileURLToPath(new URL('../../../bin/pipeline.js', import.meta.url));
      // A larger young generation: a 10,000-stage run spends a fifth of its time in scavenges otherwise.
      const child = spawn(process.execPath, ['--max-semi-space-size=32', bin, '-f', path.resolve(common.file), 'daemon', 'serve', '--idle', String(options.idle)], {
        cwd: specDir,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.unref();
      closeSync(fd);
      for (let waited = 0; waited < 20_000; waited += 50) {
        const status = await ask(specDir, { type: 'status' });
        if (status && status !== 'stopped') {
          process.stdout.write(`${green('started')}: pipeline daemon ${status.pid} serves ${specDir} ${dim(`(log: ${path.relative(process.cwd(), log)})`)}\n`);
          return;
        }
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      throw new UserError(`the daemon did not start; see ${log}`);
    });
  daemon
    .command('stop')
    .description('stop it (runs without it stat every path again)')
    .action(async () => {
      const stopped = await stopDaemon(specDirOf(program.opts<Common>()), 5_000);
      if (stopped === undefined) process.stdout.write(dim('no daemon was running\n'));
      else process.stdout.write(stopped ? `${green('stopped')}\n` : `${green('stopping')} ${dim('after the run in progress')}\n`);
    });
  daemon
    .command('status')
    .description('whether one runs, since when, what it watches')
    .action(async () => {
      const status = await ask(specDirOf(program.opts<Common>()), { type: 'status' });
      if (!status || status === 'stopped') {
        process.stdout.write(dim('no daemon is running\n'));
        setExit(1);
        return;
      }
      process.stdout.write(`pid ${status.pid}, up ${formatDuration(Date.now() - status.since)}, ${status.served} runs served, watching ${status.watched} folders\n`);
    });
  daemon
    .command('serve', { hidden: true })
    .option('--idle <minutes>', 'stop after this long without a run', (v) => Number(v), 180)
    .action(async (options: { idle: number }) => {
      const { serveDaemon } = await import('../daemon/server.js');
      await serveDaemon({ specDir: specDirOf(program.opts<Common>()), idleMs: options.idle * 60_000 });
      // Serving goes on in the background; the command line must not end the process.
      await new Promise(() => undefined);
    });
}
