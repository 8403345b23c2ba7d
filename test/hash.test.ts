import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CorruptObjectError, ObjectStore } from '../src/store/object-store.js';
import { ContentHasher, dirHash } from '../src/hash/content-hasher.js';
import { StatCache } from '../src/hash/stat-cache.js';
import { HashWorkerPool } from '../src/hash/worker-pool.js';
import { makeProject } from './helpers.js';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('content hashing', () => {
  it('the stat cache answers for an unchanged (inode, size, mtime) without reading the file', async () => {
    const dir = makeProject({ 'f.txt': 'aaaa' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, 'f.txt'), old, old);
    const cacheFile = path.join(dir, '.pipeline/stat-cache.tsv');
    const first = new ContentHasher(dir, new StatCache(cacheFile));
    assert.equal((await first.hash('f.txt')).hash, sha('aaaa'));
    await first.close();
    // Same size and mtime, other bytes: only a cache that never reads the file keeps the old hash.
    writeFileSync(path.join(dir, 'f.txt'), 'bbbb');
    utimesSync(path.join(dir, 'f.txt'), old, old);
    const second = new ContentHasher(dir, new StatCache(cacheFile));
    assert.equal((await second.hash('f.txt')).hash, sha('aaaa'));
    // A new mtime is noticed.
    utimesSync(path.join(dir, 'f.txt'), new Date(old.getTime() + 1000), new Date(old.getTime() + 1000));
    const third = new ContentHasher(dir, new StatCache(cacheFile));
    assert.equal((await third.hash('f.txt')).hash, sha('bbbb'));
  });

  it('a directory hash covers relative paths, contents and the exec bit, not the location', async () => {
    const a = makeProject({ 'd/x': '1', 'd/sub/y': '2' });
    const b = makeProject({ 'd/x': '1', 'd/sub/y': '2' });
    const ha = await new ContentHasher(a, new StatCache(path.join(a, 'sc.json'))).hash('d');
    const hb = await new ContentHasher(b, new StatCache(path.join(b, 'sc.json'))).hash('d');
    assert.equal(ha.hash, hb.hash);
    chmodSync(path.join(b, 'd/x'), 0o755);
    const hx = await new ContentHasher(b, new StatCache(path.join(b, 'sc2.json'))).hash('d');
    assert.notEqual(hx.hash, ha.hash);
  });

  it('a directory streamed a chunk at a time hashes to its sorted manifest, names that sort around "/" included', async () => {
    // `a.b` < `a/x` < `a0` as full paths, though a directory listing sorts `a` < `a.b` < `a0`.
    const files: Record<string, string> = { 'd/a.b': '1', 'd/a/x': '2', 'd/a/y/z': '3', 'd/a0': '4', 'd/a-c': '5', 'd/B': '6', 'd/é': '7' };
    for (let i = 0; i < 9000; i++) files[`d/many/f${i}`] = String(i % 7); // more than one chunk
    const dir = makeProject(files);
    const hasher = new ContentHasher(dir, new StatCache(path.join(dir, 'sc.json')));
    const hashed = await hasher.hash('d');
    const entries = Object.entries(files).map(([p, content]) => ({ path: p.slice(2), hash: sha(content), exec: false }));
    assert.equal(hashed.hash, dirHash(entries));
    assert.deepEqual(hashed.kind === 'dir' && hashed.files, entries.length);
    assert.equal(dirHash(await hasher.entries('d')), hashed.hash);
    await hasher.close();
  });

  it('folders trusted by the no-op check are listed, not statted or read: their files come from the stat cache, with the exec bit', async () => {
    const dir = makeProject({ 'd/kept/x.sh': 'x', 'd/kept/deep/y': 'y', 'd/edited/z': 'z' });
    chmodSync(path.join(dir, 'd/kept/x.sh'), 0o755);
    const old = new Date(Date.now() - 60_000);
    for (const f of ['d/kept/x.sh', 'd/kept/deep/y', 'd/edited/z']) utimesSync(path.join(dir, f), old, old);
    const cacheFile = path.join(dir, '.pipeline/stat-cache.tsv');
    const first = new ContentHasher(dir, new StatCache(cacheFile));
    const before = await first.hash('d');
    const folders = first.foldersOf('d')!;
    assert.deepEqual([...folders.keys()], ['', 'edited', 'kept', 'kept/deep']);
    await first.close();
    // Plant a record, under a signature the file does not have, for a file of a trusted folder:
    // only a hasher that neither stats nor reads it returns the planted hash.
    const planted = '9'.repeat(64);
    const lines = readFileSync(cacheFile, 'utf8').split('\n').map((l) => (l.endsWith('\td/kept/deep/y') ? `1:1:1\t${planted}\td/kept/deep/y` : l));
    writeFileSync(cacheFile, lines.join('\n'));
    writeFileSync(path.join(dir, 'd/edited/z'), 'Z');
    const trusted = new Map([...folders].filter(([inner]) => inner.startsWith('kept')));
    const second = new ContentHasher(dir, new StatCache(cacheFile));
    second.seed({ paths: new Map(), folders: new Map([['d', { trusted, files: 3 }]]) });
    const entries = await second.entries('d');
    assert.deepEqual(entries, [
      { path: 'edited/z', hash: sha('Z'), exec: false },
      { path: 'kept/deep/y', hash: planted, exec: false },
      { path: 'kept/x.sh', hash: sha('x'), exec: true },
    ]);
    // Untrusted, the folder is statted and the record, for another signature, is not believed.
    const third = new ContentHasher(dir, new StatCache(cacheFile));
    assert.equal((await third.entries('d')).find((e) => e.path === 'kept/deep/y')?.hash, sha('y'));
    assert.notEqual(before.hash, (await third.hash('d')).hash, 'edited/z changed');
  });

  it('the worker pool hashes large trees on every core with the same results as sha256', async () => {
    const dir = makeProject({});
    const jobs = [];
    for (let i = 0; i < 6; i++) {
      const data = randomBytes(8 * 1024 * 1024 + i);
      const file = path.join(dir, `big${i}`);
      writeFileSync(file, data);
      jobs.push({ abs: file, size: data.length, expected: sha(data) });
    }
    const pool = new HashWorkerPool();
    const hashes = await pool.hashAll(jobs);
    await pool.close();
    assert.deepEqual(hashes, jobs.map((j) => j.expected));
  });
});

describe('object store', () => {
  it('stores read-only objects, restores copies, and refuses a corrupt object', () => {
    const dir = makeProject({ 'f.txt': 'payload' });
    const store = new ObjectStore(path.join(dir, 'cache'));
    const hash = store.putFile(path.join(dir, 'f.txt'));
    assert.equal(hash, sha('payload'));
    assert.equal(statSync(store.pathOf(hash)).mode & 0o222, 0, 'objects are read-only');
    store.restoreFile(hash, path.join(dir, 'copy.txt'), false);
    writeFileSync(path.join(dir, 'copy.txt'), 'edited');
    assert.equal(readFileSync(store.pathOf(hash), 'utf8'), 'payload', 'editing a restored file leaves the object alone');
    chmodSync(store.pathOf(hash), 0o644);
    writeFileSync(store.pathOf(hash), 'rotten!');
    assert.throws(() => store.restoreFile(hash, path.join(dir, 'again.txt'), false), CorruptObjectError);
    assert.throws(() => statSync(path.join(dir, 'again.txt')), /ENOENT/, 'nothing half-restored is left behind');
    mkdirSync(path.join(dir, 'cache', 'tmp'), { recursive: true });
  });
});
