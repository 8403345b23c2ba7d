import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, makeProject } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';

const spec = (lines: string[]) => ({ 'pipeline.yaml': ['stages:', ...lines].join('\n') + '\n' });

describe('graph rules are checked before anything runs', () => {
  it('a cycle is printed', () => {
    const dir = makeProject(spec(['  a:', '    cmd: cat b > a', '    deps: [b]', '    outs: [a]', '  b:', '    cmd: cat a > b', '    deps: [a]', '    outs: [b]']));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dependency cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('after: adds edges and names unknown stages', () => {
    const ok = makeProject(spec(['  a:', '    cmd: echo a >> order', '  b:', '    cmd: echo b >> order', '    after: [a]']));
    assert.match(cli(ok, ['dag']).stdout, /a\n└─ b/);
    const bad = makeProject(spec(['  a:', '    cmd: "true"', '    after: [nope]']));
    const r = cli(bad, ['validate']);
    assert.match(r.stderr, /pipeline\.yaml:4:13: after: "nope" is not a stage/);
  });

  it('two owners of one out, and nested outs, are refused', () => {
    const dup = makeProject(spec(['  a:', '    cmd: "true"', '    outs: [x]', '  b:', '    cmd: "true"', '    outs: [x]']));
    assert.match(cli(dup, ['validate']).stderr, /pipeline\.yaml:7:12: out "x" has two owners: a and b both write it/);
    const nested = makeProject(spec(['  a:', '    cmd: "true"', '    outs: [d]', '  b:', '    cmd: "true"', '    outs: [d/inner.txt]']));
    assert.match(cli(nested, ['validate']).stderr, /out "d\/inner\.txt" of b is inside out "d" of a; outs may not nest/);
  });

  it('outs outside the project are refused: .., absolute, symlinks escaping', () => {
    const up = makeProject(spec(['  a:', '    cmd: "true"', '    outs: [../x]']));
    assert.match(cli(up, ['validate']).stderr, /pipeline\.yaml:4:12: "\.\.\/x" is outside the project directory/);
    const abs = makeProject(spec(['  a:', '    cmd: "true"', '    outs: [/tmp/x]']));
    assert.match(cli(abs, ['validate']).stderr, /"\/tmp\/x" is absolute/);
    const link = makeProject(spec(['  a:', '    cmd: "true"', '    outs: [escape/x.txt]']));
    symlinkSync(tempDir('outside-'), path.join(link, 'escape'));
    assert.match(cli(link, ['validate']).stderr, /out "escape\/x\.txt" of a resolves through a symlink to outside the project/);
  });

  it('a dep that nothing produces and that does not exist is refused', () => {
    const dir = makeProject(spec(['  a:', '    cmd: cat missing.txt', '    deps: [missing.txt]']));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipeline\.yaml:4:12: dep "missing\.txt" of a does not exist and no stage produces it/);
  });

  it('dag prints mermaid and dot', () => {
    const dir = makeProject(spec(['  a:', '    cmd: echo > a', '    outs: [a]', '  b:', '    cmd: cat a > b', '    deps: [a]', '    outs: [b]']));
    assert.match(cli(dir, ['dag', '--mermaid']).stdout, /flowchart TD\n {2}n0\["a"\]\n {2}n1\["b"\]\n {2}n0 --> n1/);
    assert.match(cli(dir, ['dag', '--dot']).stdout, /"a" -> "b";/);
  });
});
