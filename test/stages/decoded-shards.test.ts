import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { appendShard, decodedImages, decodeImage, ShardReader, type ShardedIndex } from '../../stages/runtime/decoded-shards.js';
import { applyAugmentation, drawAugmentation } from '../../stages/train/augmentation.js';
import { BatchLoader } from '../../stages/train/batches.js';
import { rng } from '../../stages/runtime/rng.js';
import { tempDir } from '../support/temp-dirs.js';

async function photos(dir: string, count: number, from = 0): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  return Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const i = from + k;
      const file = path.join(dir, `p${i}.png`);
      // Not square, so fill and letterbox differ.
      await sharp({ create: { width: 30 + i, height: 20, channels: 3, background: { r: (i * 37) % 255, g: (i * 91) % 255, b: 128 } } }).png().toFile(file);
      return file;
    }),
  );
}

function read(location: { file: string; offset: number }, size: number): Buffer {
  const reader = new ShardReader(size * size * 3);
  const out = Buffer.alloc(size * size * 3);
  reader.read(location, out);
  reader.close();
  return out;
}

describe('decoded shards: each image decoded once per size and fit, shared by every fold', () => {
  it('holds exactly what the decoder gives; a second call decodes nothing; added and edited images are decoded, the rest not', async () => {
    const dir = tempDir('shards-');
    const files = await photos(path.join(dir, 'img'), 6);
    const root = path.join(dir, 'shards');
    const first = await decodedImages(root, files, 12, 'fill');
    assert.equal(first.decoded, 6);
    for (const [i, file] of files.entries()) assert.deepEqual(read(first.locations[i]!, 12), await decodeImage(file, 12, 'fill'));
    assert.equal((await decodedImages(root, files, 12, 'fill')).decoded, 0);
    const letterbox = await decodedImages(root, files.slice(0, 2), 12, 'letterbox');
    assert.equal(letterbox.decoded, 2);
    assert.notDeepEqual(read(letterbox.locations[0]!, 12), read(first.locations[0]!, 12));
    const more = [...files, ...(await photos(path.join(dir, 'img'), 2, 6))];
    utimesSync(files[0]!, new Date(), new Date(Date.now() + 5000));
    const again = await decodedImages(root, more, 12, 'fill');
    assert.equal(again.decoded, 3, 'two new images and one touched');
    for (const [i, file] of more.entries()) assert.deepEqual(read(again.locations[i]!, 12), await decodeImage(file, 12, 'fill'));
  });

  it('two trainers starting together decode once; a dead builder\'s lock and half-written shard are ignored', async () => {
    const dir = tempDir('shards-');
    const files = await photos(path.join(dir, 'img'), 5);
    const root = path.join(dir, 'shards');
    // What a build killed with -9 leaves: its lock (a pid that no longer runs) and a shard the index never named.
    const shardDir = path.join(root, '8px-fill');
    mkdirSync(path.join(shardDir, 'lock'), { recursive: true });
    writeFileSync(path.join(shardDir, 'lock', 'pid'), '2147483646');
    writeFileSync(path.join(shardDir, 'dead-builder.u8'), Buffer.alloc(100, 7));
    const [a, b] = await Promise.all([decodedImages(root, files, 8, 'fill'), decodedImages(root, files, 8, 'fill')]);
    assert.equal(a.decoded + b.decoded, 5);
    assert.deepEqual(a.locations, b.locations);
    assert.ok(!readdirSync(shardDir).includes('lock'));
    for (const [i, file] of files.entries()) assert.deepEqual(read(a.locations[i]!, 8), await decodeImage(file, 8, 'fill'));
  });

  it('builders wanting the same keys split them by claims, and a dead builder\'s claim is taken over', async () => {
    const dir = tempDir('shards-');
    const indexFile = path.join(dir, 'index.json');
    const read = (): ShardedIndex => {
      try {
        return JSON.parse(readFileSync(indexFile, 'utf8')) as ShardedIndex;
      } catch {
        return { shards: [], slots: {} };
      }
    };
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    // Keys 0-3 claimed by a builder killed with -9 (its pid no longer runs).
    writeFileSync(path.join(dir, 'claim-2147483646-0.json'), JSON.stringify({ pid: 2147483646, keys: keys.slice(0, 4) }));
    const made: string[][] = [[], []];
    const builder = (who: number) =>
      appendShard(dir, indexFile, read, keys, '.bin', 2, async (chunk) => {
        made[who]!.push(...chunk);
        await new Promise((r) => setTimeout(r, 5)); // the work, during which the other builder claims the next keys
        return Uint8Array.from(chunk.map((k) => Number(k.slice(1))));
      }, undefined, 4);
    const [a, b] = await Promise.all([builder(0), builder(1)]);
    assert.equal(a.added + b.added, 40);
    assert.ok(made[0]!.length > 0 && made[1]!.length > 0, `both built: ${made[0]!.length} and ${made[1]!.length}`);
    assert.deepEqual([...made[0]!, ...made[1]!].sort(), keys, 'every key made exactly once, the dead claim\'s too');
    const index = read();
    for (const key of keys) {
      const [shard, slot] = index.slots[key]!;
      assert.equal(readFileSync(path.join(dir, index.shards[shard]!))[slot], Number(key.slice(1)));
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('claim-') || f === 'lock'), [], 'no claim or lock left');
  });

  it('the batch worker gives the bytes scaled to [0, 1] with each image\'s augmentation, as done in place', async () => {
    const dir = tempDir('shards-');
    const files = await photos(path.join(dir, 'img'), 5);
    const { locations } = await decodedImages(path.join(dir, 'shards'), files, 16, 'fill');
    const random = rng(3);
    const items = locations.map((l, i) => ({ ...l, augmentation: i % 2 ? drawAugmentation(16, random) : undefined }));
    const loader = new BatchLoader(16);
    const batches: Float32Array[] = [];
    for await (const { data } of loader.stream(items, 2)) batches.push(data);
    await loader.close();
    assert.deepEqual(batches.map((b) => b.length / (16 * 16 * 3)), [2, 2, 1]);
    const got = Float32Array.from(batches.flatMap((b) => Array.from(b)));
    items.forEach((item, i) => {
      const img = Float32Array.from(read(item, 16), (v) => v / 255);
      if (item.augmentation) applyAugmentation(img, 16, item.augmentation);
      assert.deepEqual(got.subarray(i * 768, (i + 1) * 768), img, `image ${i}`);
    });
  });
});
