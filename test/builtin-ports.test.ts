import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintOf, keyOf } from '../src/fingerprint.js';
import { loadProject } from '../src/spec/load.js';
import { builtinDeclarations } from '../stages/registry.js';
import { cli, makeProject } from './helpers.js';

/** `uses:` stages map their deps/outs onto the built-in's declared names; every mistake is a file:line error at load. */
const spec = (train: string) =>
  [
    'stages:',
    '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: out/splits.json } }',
    '  train:',
    '    uses: train',
    train,
  ].join('\n');
const params = 'seed: 1\ncv: { folds: 2 }\nmodel: { arch: simple_cnn }\ndata: {}\ntrain: {}\n';

function validate(train: string) {
  return cli(makeProject({ 'data/raw/manifest.csv': 'path,label\n', 'params.yaml': params, 'pipeline.yaml': `params: [params.yaml]\n${spec(train)}\n` }), ['validate']);
}

describe('named inputs and outputs of built-in stages', () => {
  it('accepts a complete mapping', () => {
    const r = validate('    with: { fold: 0 }\n    deps: { splits: out/splits.json, dataset: data/raw }\n    params: [seed, model, data, train]\n    outs: { run: out/run }');
    assert.equal(r.code, 0, r.stderr);
  });

  it('a list where names are expected says how to write it', () => {
    const r = validate('    with: { fold: 0 }\n    deps: [out/splits.json, data/raw]\n    outs: { run: out/run }');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:7:11: train names its inputs: write deps: as a mapping, e.g\. deps: \{ splits: …, dataset: … \} \(inputs of train: splits \(file\), dataset \(dir\), cropped \(dir, optional\)\)/);
  });

  it('an unknown input suggests the closest name', () => {
    const r = validate('    with: { fold: 0 }\n    deps: { split: out/splits.json, dataset: data/raw }\n    outs: { run: out/run }');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:7:13: train has no input `split`; did you mean `splits`\? \(inputs of train: splits \(file\), dataset \(dir\), cropped \(dir, optional\)\)/);
  });

  it('a missing required input names it and what it holds', () => {
    const r = validate('    with: { fold: 0 }\n    deps: { dataset: data/raw }\n    outs: { run: out/run }');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:7:11: train needs input `splits` \(splits\.json from split\)/);
  });

  it('a missing output', () => {
    const r = validate('    with: { fold: 0 }\n    deps: { splits: out/splits.json, dataset: data/raw }');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:4:3: train needs output `run`/);
  });

  it('with: is checked against the declared options', () => {
    const unknown = validate('    with: { fold: 0, flod: 1 }\n    deps: { splits: out/splits.json, dataset: data/raw }\n    outs: { run: out/run }');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /pipeline\.yaml:6:22: train has no option `flod`; did you mean `fold`\? \(options of train: fold, runner, script, python\)/);
    const missing = validate('    deps: { splits: out/splits.json, dataset: data/raw }\n    outs: { run: out/run }');
    assert.match(missing.stderr, /pipeline\.yaml:4:3: train needs the option `fold` in with:/);
    const wrong = validate('    with: { fold: first }\n    deps: { splits: out/splits.json, dataset: data/raw }\n    outs: { run: out/run }');
    assert.match(wrong.stderr, /pipeline\.yaml:6:19: with\.fold must be integer \(got "first"\)/);
  });

  it('a cmd: stage keeps plain lists', () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi\n    deps: { a: x }\n' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:4:11: deps: as a mapping names the inputs\/outputs of a built-in \(uses:\); a cmd: stage lists its paths/);
  });

  it('swapping which path feeds which input changes the key', () => {
    const keyFor = (deps: string) => {
      const dir = makeProject({ 'pipeline.yaml': `stages:\n  r:\n    uses: report\n    deps: ${deps}\n    outs: { report: out }\n` });
      const [instance] = loadProject({ specFile: path.join(dir, 'pipeline.yaml') }).instances;
      return keyOf(fingerprintOf(instance, { 'a.txt': 'h1', 'b.txt': 'h2' }));
    };
    const straight = keyFor('{ results: a.txt, eda: b.txt, configs: a.txt, runs: b.txt }');
    assert.equal(keyFor('{ runs: b.txt, configs: a.txt, eda: b.txt, results: a.txt }'), straight, 'the order of the mapping does not matter');
    assert.notEqual(keyFor('{ results: b.txt, eda: a.txt, configs: a.txt, runs: b.txt }'), straight);
  });
});

describe('stages/registry.ts', () => {
  it('every built-in folder has a declaration whose entry exists, and the schema names them all', () => {
    const schema = readFileSync(fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url)), 'utf8');
    for (const d of builtinDeclarations) {
      assert.match(d.entry, new RegExp(`^${d.name}/main\\.js$`));
      assert.ok(readFileSync(fileURLToPath(new URL(`../stages/${d.entry}`, import.meta.url))));
      assert.ok(schema.includes(d.name), `schema mentions ${d.name}`);
    }
  });
});
