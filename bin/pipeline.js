#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// `pipeline dag | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(error); process.exitCode = 70; },
);
