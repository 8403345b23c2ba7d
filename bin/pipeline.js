#!/usr/bin/env node
import { fastNoop } from '../dist/src/run/noop-check.js';

// `pipeline dag | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// A no-op `pipeline run` is answered before the engine loads: its start-up is most of a no-op.
fastNoop(process.argv.slice(2))
  .then(async (code) => code ?? (await import('../dist/src/cli/main.js')).main(process.argv))
  .then(
    (code) => { process.exitCode = code; },
    (error) => { console.error(error); process.exitCode = 70; },
  );
