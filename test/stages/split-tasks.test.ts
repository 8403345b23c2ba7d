import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, makeProject, read } from '../helpers.js';

/** A dataset folder with only a manifest (split reads no pixels), and the split stage over it. */
function project(rows: string[]): string {
  return makeProject({
    'params.yaml': 'seed: 1\ncv: { folds: 5, stratify: label }\n',
    'data/manifest.csv': ['path,label,source,group', ...rows].join('\n') + '\n',
    'pipeline.yaml': 'params: [params.yaml]\nstages:\n  split: { uses: split, deps: { dataset: data }, params: [seed, cv], outs: { splits: out/splits.json } }\n',
  });
}
const rows = (n: number, label: (i: number) => number | string) => Array.from({ length: n }, (_, i) => `img${i}.png,${label(i)},src,g${i}`);

describe('split: task-aware, and clear about bad labels', () => {
  it('a four-class manifest is split per class and recorded as multi-class', () => {
    const dir = project(rows(40, (i) => i % 4));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const split = JSON.parse(read(dir, 'out/splits.json')) as { task: string; samples: { label: number; fold: number }[] };
    assert.equal(split.task, 'multiclass');
    for (let f = 0; f < 5; f++) assert.equal(new Set(split.samples.filter((s) => s.fold === f).map((s) => s.label)).size, 4, `fold ${f} has all four classes`);
  });
  it('numeric targets are a regression task', () => {
    const dir = project(rows(30, (i) => (20 + i * 1.7).toFixed(1)));
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal((JSON.parse(read(dir, 'out/splits.json')) as { task: string }).task, 'regression');
  });
  it('a target that is not a number names its row; nothing is written', () => {
    const dir = project([...rows(10, (i) => 30 + i), 'img10.png,forty,src,g10']);
    const r = cli(dir, ['run']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /manifest\.csv:12: label must be a number .*got "forty"/);
    assert.ok(!existsSync(path.join(dir, 'out/splits.json')));
  });
  it('a single class is an error', () => {
    const r = cli(project(rows(20, () => 1)), ['run']);
    assert.match(r.stderr, /a single class \(label 1\) in 20 samples; a classifier needs at least two/);
  });
  it('a class with fewer groups than folds is named', () => {
    const dir = project([...rows(30, (i) => i % 2), 'a.png,2,src,ga', 'b.png,2,src,gb']);
    const r = cli(dir, ['run']);
    assert.match(r.stderr, /label 2 \(2 groups\): fewer groups than the 5 folds/);
    assert.ok(!existsSync(path.join(dir, 'out/splits.json')));
  });
});
