#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json says so; the name stays, as npx caches and scripts link to it), as
// are the daemon's client and protocol it loads first: a command line served by the daemon then
// loads no ES module, which starts it 0.01-0.02 s sooner (a tenth of such a run).

// Node 22+ keeps compiled modules on disk between runs; a run loads some 150 of them.
require('node:module').enableCompileCache?.();

// `pipeline dag | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// `pipeline run` goes to the project's daemon when one runs (`pipeline daemon start`).
// Otherwise a no-op is answered before the engine loads: its start-up is most of a no-op; and
// what the check found unchanged is handed on, so the run does not stat it again.
const args = process.argv.slice(2);
const local = () =>
  import('../dist/src/run/noop-check.js')
    .then(({ fastNoop }) => fastNoop(args))
    .then(async (fast) => ('code' in fast ? fast.code : (await import('../dist/src/cli/main.js')).main(process.argv, fast.checked)));
(process.env.PIPELINE_DAEMON === '0' ? Promise.resolve(undefined) : require('../dist/src/daemon/client.cjs').viaDaemon(args))
  .then((served) => (served !== undefined ? served : local()))
  .then(
    (code) => { process.exitCode = code; },
    (error) => { console.error(error); process.exitCode = 70; },
  );
