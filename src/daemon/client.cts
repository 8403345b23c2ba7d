import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { buildId, commandOf, messageReader, runEnvironment, socketPath, type ClientMessage, type DaemonMessage } from './protocol.cjs';

/**
 * `pipeline run` through the project's daemon when one is running (see server.ts): the exit
 * code, or undefined when there is none or it would not serve this (the caller then runs the
 * command itself, so a daemon never changes what a run does, only how fast it starts).
 */
export async function viaDaemon(args: readonly string[]): Promise<number | undefined> {
  const { file = 'pipeline.yaml', command } = commandOf(args);
  if (command !== 'run') return undefined;
  const socket = socketPath(path.dirname(path.resolve(file)));
  if (!existsSync(socket)) return undefined;
  return new Promise((resolve) => {
    const connection = connect(socket);
    let settled = false;
    let interrupts = 0;
    let heard = false;
    const settle = (code: number | undefined) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      connection.end();
      resolve(code);
    };
    const send = (message: ClientMessage) => connection.write(JSON.stringify(message) + '\n');
    // Ctrl-C goes to the daemon's run, which cancels as a run of our own would.
    const onSignal = () => {
      interrupts++;
      send({ type: 'signal' });
    };
    connection.on('connect', () => {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      send({
        type: 'run',
        argv: [...args],
        cwd: process.cwd(),
        env: runEnvironment(process.env),
        build: buildId(),
        tty: { stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY), ...(process.stderr.columns ? { columns: process.stderr.columns } : {}) },
      });
    });
    connection.on(
      'data',
      messageReader<DaemonMessage>((message) => {
        heard = true;
        if (message.type === 'stdout') process.stdout.write(message.text);
        else if (message.type === 'stderr') process.stderr.write(message.text);
        else if (message.type === 'exit') settle(message.code);
        else if (message.type === 'fallback') {
          if (process.env.PIPELINE_DAEMON_DEBUG) process.stderr.write(`pipeline daemon: ${message.reason}\n`);
          settle(undefined);
        }
      }),
    );
    // A stale socket (the daemon was killed) or a daemon that went away before answering.
    connection.on('error', () => {
      if (!heard) settle(undefined);
    });
    connection.on('close', () => {
      if (settled) return;
      if (!heard) return settle(undefined);
      // Gone mid-run: after a second Ctrl-C (it quit at once, as a run does) or a crash.
      if (interrupts > 1) return settle(130);
      process.stderr.write('pipeline: the daemon stopped during the run; run again (without a daemon it runs here)\n');
      settle(1);
    });
  });
}
