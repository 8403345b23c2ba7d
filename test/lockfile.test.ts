import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import jsYaml from 'js-yaml';
import { Lockfile, type LockEntry } from '../src/store/lockfile.js';
import { tempDir } from './support/temp-dirs.js';

/** The whole lock dumped in one go by js-yaml: what pipeline.lock looked like before entries were dumped one at a time. */
function wholeDocument(lock: Lockfile): string {
  const sorted = <T>(r: Record<string, T>) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
  const stages: Record<string, LockEntry> = {};
  for (const id of lock.ids().sort()) {
    const e = lock.get(id)!;
    stages[id] = { key: e.key, cmd: e.cmd, deps: sorted(e.deps), params: sorted(e.params), outs: sorted(e.outs), ...(e.env && Object.keys(e.env).length ? { env: sorted(e.env) } : {}) };
  }
  return '# pipeline.lock: written by `pipeline run`; commit it. Stable order, one entry per stage instance.\n' + jsYaml.dump({ schema: 1, stages }, { lineWidth: -1, noRefs: true, sortKeys: false });
}

describe('pipeline.lock', () => {
  it('is byte for byte what one js-yaml dump of the whole document gives, while entries are dumped one at a time and reused', () => {
    const lock = new Lockfile(path.join(tempDir('lock-'), 'pipeline.lock'));
    assert.equal(lock.serialize(), wholeDocument(lock), 'empty');
    lock.set('train@exp=a,fold=0', {
      key: 'k1',
      cmd: 'python train.py\n  --x 1\n\n\nafter blank lines: yes\n',
      deps: { 'data/x y.txt': 'h', b: 'h2', '01': 'n' },
      params: { lr: 0.1, nested: { a: [1, 2, { b: 'c' }], e: {}, z: null, t: true, s: 'yes', q: "it's", m: 'a\n\nb' }, empty: [] },
      outs: {},
      env: { A: '1', 'B C': '#x' },
    });
    lock.set('a:b', { key: 'k2', cmd: '- dash', deps: {}, params: {}, outs: { 'o/x': 'h' } });
    lock.set('  spaced', { key: 'k3', cmd: '', deps: {}, params: { '': 'empty key', '?': '*', '|': '> folded?' }, outs: {}, env: {} });
    assert.equal(lock.serialize(), wholeDocument(lock));
    lock.set('a:b', { key: 'k2 changed', cmd: 'x', deps: {}, params: {}, outs: {} });
    lock.delete('  spaced');
    assert.equal(lock.serialize(), wholeDocument(lock), 'after a change and a delete');
    assert.deepEqual(jsYaml.load(lock.serialize()), jsYaml.load(wholeDocument(lock)));
  });

  it('reloaded from its mirror, reuses each entry\'s text and still writes what one whole-document dump gives', () => {
    const dir = tempDir('lock-');
    const file = path.join(dir, 'pipeline.lock');
    const mirror = path.join(dir, 'lock.json');
    const first = new Lockfile(file, mirror);
    for (let i = 0; i < 20; i++) first.set(`s${i}`, { key: `k${i}`, cmd: `echo ${i}\nsecond line`, deps: { [`d${i}`]: 'h' }, params: { i }, outs: { [`o${i}`]: 'h' } });
    first.flush(true);
    const second = new Lockfile(file, mirror);
    assert.equal(second.serialize(), readFileSync(file, 'utf8'));
    second.set('s3', { key: 'changed', cmd: 'other', deps: {}, params: { x: 'y: z' }, outs: {} });
    assert.equal(second.serialize(), wholeDocument(second));
  });
});
