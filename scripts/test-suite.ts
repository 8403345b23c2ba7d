/**
 * `npm test`: node's test runner over dist/test/, with the system's temp folder swapped for a
 * fresh one, which must be empty again when the suite ends; whatever a test left there is listed
 * and fails the run. Arguments replace the default test files (`npm test -- dist/test/cache.test.js`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeTree } from '../test/support/temp-dirs.js';

/** What the product itself keeps in the temp folder on purpose and reuses across processes. */
const RUNTIME_CACHES = [/^pipeline-tfjs-wasm-/];

const systemTemp = tmpdir();
const suiteTemp = mkdtempSync(path.join(systemTemp, 'pipeline-suite-'));
const files = process.argv.slice(2);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...(files.length ? files : ['dist/test/'])], {
  stdio: 'inherit',
  // The downloaded sample photos are a cache shared by every run, as node_modules is.
  env: { ...process.env, TMPDIR: suiteTemp, PIPELINE_TEST_CACHE: process.env.PIPELINE_TEST_CACHE ?? systemTemp },
});

const leftovers = readdirSync(suiteTemp).filter((name) => !RUNTIME_CACHES.some((pattern) => pattern.test(name)));
removeTree(suiteTemp);
let code = run.status ?? 1;
if (leftovers.length > 0) {
  console.error(`\nThe tests left ${leftovers.length} entries in the temp folder (each test must remove what it makes, also when it fails):`);
  for (const name of leftovers.slice(0, 40)) console.error(`  ${name}`);
  if (leftovers.length > 40) console.error(`  ... and ${leftovers.length - 40} more`);
  code = code || 1;
} else {
  console.log(`\nThe tests left nothing in the temp folder.`);
}
process.exit(code);
