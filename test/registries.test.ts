import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { executorKinds } from '../src/executors/registry.js';
import { remoteKinds } from '../src/remotes/registry.js';
import { cli, makeProject } from './helpers.js';

/** Executors and remotes are registries: the CLI, the spec schema and validation read them. */
describe('executor and remote registries', () => {
  it('the shipped schema is what `pipeline schema` builds from the registries', () => {
    const shipped = readFileSync(fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url)), 'utf8');
    const r = cli(makeProject({}), ['schema']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, shipped, 'run `node bin/pipeline.js schema > schema/pipeline.schema.json` after changing a registry');
    const schema = JSON.parse(r.stdout) as { definitions: { stage: { properties: Record<string, { enum?: string[] }> } } };
    assert.deepEqual(schema.definitions.stage.properties.executor.enum, executorKinds.map((k) => k.name));
    for (const kind of executorKinds) if (kind.options) assert.ok(schema.definitions.stage.properties[kind.name], `stage key ${kind.name}:`);
  });

  it('an unknown executor is refused with the registered ones, from the flag and from the spec', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi\n' });
    const flag = cli(dir, ['run', '--executor', 'kubernetes']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--executor.*kubernetes.*local, slurm/s);
    const spec = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi\n    executor: kubernetes\n' });
    const r = cli(spec, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:4:15: .*must be one of: local, slurm/);
  });

  it('a remote URL picks its kind by scheme; an unknown scheme names the known ones', () => {
    assert.deepEqual(remoteKinds.flatMap((k) => k.schemes).sort(), ['file', 'http', 'https', 's3']);
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > o\n    outs: [o]\n' });
    assert.equal(cli(dir, ['run']).code, 0);
    const r = cli(dir, ['cache', 'push'], { PIPELINE_REMOTE: 'gs://bucket/cache' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /remote gs:\/\/bucket\/cache: no remote serves gs:\/\/ \(known: file:\/\/, http:\/\/, https:\/\/, s3:\/\/, or a directory path\)/);
  });
});
