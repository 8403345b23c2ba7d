import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { StatCache } from '../src/hash/stat-cache.js';
import { tempDir } from './support/temp-dirs.js';

const stat = (ino: number, size = 10, mtimeMs = 1700000000123.4567) => ({ ino, size, mtimeMs, mode: 0o100644 });
const sha = (i: number) => i.toString(16).padStart(64, '0');

describe('the stat cache', () => {
  it('answers only for the recorded signature, survives a save and a reload, and forgets deleted paths', () => {
    const file = path.join(tempDir('sc-'), 'stat-cache.tsv');
    const cache = new StatCache(file);
    // Enough entries to grow the index and fill more than one 4 MB log chunk.
    const n = 60_000;
    for (let i = 0; i < n; i++) cache.set(`data/d${i % 100}/f${i}.txt`, stat(i), sha(i));
    cache.set('data/é and spaces\tand a tab.txt', stat(7), sha(7));
    cache.set('data/d1/f1.txt', stat(1, 11), sha(999)); // replaced
    cache.delete('data/d2/f2.txt');
    for (const c of [cache, (cache.save(), new StatCache(file))]) {
      assert.equal(c.get('data/d3/f3.txt', stat(3)), sha(3));
      assert.equal(c.get('data/d3/f3.txt', stat(3, 11)), undefined, 'another size');
      assert.equal(c.get('data/d3/f3.txt', stat(3, 10, 1700000000123.4577)), undefined, 'a microsecond later');
      assert.equal(c.get('data/d3/f3.tx', stat(3)), undefined, 'a prefix of a recorded path');
      assert.equal(c.get('data/d1/f1.txt', stat(1, 11)), sha(999));
      assert.equal(c.get('data/d1/f1.txt', stat(1)), undefined);
      assert.equal(c.previous('data/d1/f1.txt'), sha(999));
      assert.equal(c.get('data/d2/f2.txt', stat(2)), undefined);
      assert.equal(c.get('data/é and spaces\tand a tab.txt', stat(7)), sha(7));
      assert.equal(c.countInside('data/d5'), n / 100);
      assert.equal(c.countInside('data'), n);
      assert.deepEqual([...c.inside('data/d2')].length, n / 100 - 1);
    }
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, n);
  });

  it('counts what lies inside a folder, and keeps counting as paths are set and deleted after', () => {
    const cache = new StatCache(path.join(tempDir('sc-'), 'stat-cache.tsv'));
    for (const rel of ['top.txt', 'a/x.txt', 'a/b/y.txt', 'a/b/c/z.txt', 'ab/w.txt', 'a.b/v.txt']) cache.set(rel, stat(1), sha(1));
    assert.equal(cache.countInside('a'), 3, 'not ab/ or a.b/');
    assert.equal(cache.countInside('a/b'), 2);
    cache.set('a/b/new.txt', stat(2), sha(2));
    cache.set('a/x.txt', stat(3), sha(3)); // replaced, not added
    cache.delete('a/b/c/z.txt');
    cache.delete('a/b/c/never-recorded.txt');
    assert.equal(cache.countInside('a'), 3);
    assert.equal(cache.countInside('a/b'), 2);
    assert.equal(cache.countInside('a/b/c'), 0);
    assert.equal(cache.countInside('ab'), 1);
  });

  it('a torn or foreign file is an empty cache, never a wrong answer', () => {
    const file = path.join(tempDir('sc-'), 'stat-cache.tsv');
    writeFileSync(file, `1:10:5\t${sha(1)}\tdata/a.txt\n[["old json"]]\n1:10:5\t${sha(2)}\tdata/b`);
    const c = new StatCache(file);
    assert.equal(c.get('data/a.txt', { ino: 1, size: 10, mtimeMs: 5, mode: 0 }), sha(1));
    assert.equal(c.get('data/b', { ino: 1, size: 10, mtimeMs: 5, mode: 0 }), undefined, 'a last line without its newline is dropped');
  });
});
