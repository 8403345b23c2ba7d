#!/usr/bin/env node
import module from 'node:module';

// Node 22+ keeps compiled modules on disk between runs; a run loads some 150 of them.
module.enableCompileCache?.();

// `pipeline dag | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// `pipeline run` goes to the project's daemon when one runs (`pipeline daemon start`).
// Otherwise a no-op is answered before the engine loads: its start-up is most of a no-op; and
// what the check found unchanged is handed on, so the run does not stat it again.
const args = process.argv.slice(2);
const served = process.env.PIPELINE_DAEMON === '0' ? undefined : await (await import('../dist/src/daemon/client.js')).viaDaemon(args);
(served !== undefined
  ? Promise.resolve(served)
  : import('../dist/src/run/noop-check.js')
      .then(({ fastNoop }) => fastNoop(args))
      .then(async (fast) => ('code' in fast ? fast.code : (await import('../dist/src/cli/main.js')).main(process.argv, fast.checked))))
  .then(
    (code) => { process.exitCode = code; },
    (error) => { console.error(error); process.exitCode = 70; },
  );
