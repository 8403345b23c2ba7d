#!/usr/bin/env node
import module from 'node:module';

// Node 22+ keeps compiled modules on disk between runs; a run loads some 150 of them.
module.enableCompileCache?.();
const { fastNoop } = await import('../dist/src/run/noop-check.js');

// `pipeline dag | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// A no-op `pipeline run` is answered before the engine loads: its start-up is most of a no-op.
// Otherwise what the check found unchanged is handed on, so the run does not stat it again.
fastNoop(process.argv.slice(2))
  .then(async (fast) => ('code' in fast ? fast.code : (await import('../dist/src/cli/main.js')).main(process.argv, fast.checked)))
  .then(
    (code) => { process.exitCode = code; },
    (error) => { console.error(error); process.exitCode = 70; },
  );
