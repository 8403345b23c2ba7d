import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../support/train-hash.js', import.meta.url));

it('wasm training gives bit-identical weights with 1, 2 and 3 threads (the thread count is not part of a cache key)', () => {
  const hashes = [1, 2, 3].map((threads) => execFileSync(process.execPath, [script, String(threads)], { encoding: 'utf8' }).trim());
  assert.match(hashes[0]!, /^[0-9a-f]{64}$/);
  assert.deepEqual(hashes, [hashes[0], hashes[0], hashes[0]]);
});
