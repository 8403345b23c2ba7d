import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The engine reads versions from registry.json (cheap); the stages declare them in code. They must agree. */
describe('stages/registry.json', () => {
  it('lists every built-in stage with the version its module declares', async () => {
    const registry = JSON.parse(readFileSync(fileURLToPath(new URL('../../../stages/registry.json', import.meta.url)), 'utf8')) as Record<string, { version: string; entry: string }>;
    const modules: Record<string, string> = { 'synth-faces': 'synthFaces', split: 'split', train: 'train', aggregate: 'aggregate', eda: 'eda', report: 'report', facecrop: 'facecrop' };
    assert.deepEqual(Object.keys(registry).sort(), Object.keys(modules).sort());
    for (const [name, exported] of Object.entries(modules)) {
      const mod = (await import(`../../stages/${name}/index.js`)) as Record<string, { name: string; version: string }>;
      assert.equal(mod[exported].name, name);
      assert.equal(registry[name].version, mod[exported].version, `${name}: registry ${registry[name].version}, module ${mod[exported].version}`);
    }
  });
});
