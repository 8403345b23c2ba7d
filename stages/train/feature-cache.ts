/**
 * A frozen backbone's features, computed once per (image, backbone) and shared by every head
 * trained on them (`train.freeze: backbone`): fifty head experiments on one backbone embed each
 * image once. Like the decoded shards beside it, a per-clone memo under the train stage's
 * cache, not an out: `<stageCache>/features/<digest>/` where the digest names the architecture,
 * the weights file's content, the size, the fit and the normalisation; `index.json` maps an
 * image's stat signature to [shard, slot] of float32 shards, appended under a lock and named
 * by the index only once fsynced (a kill leaves an unnamed shard, ignored).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { appendShard, fileSignature, type ShardedIndex } from '../runtime/decoded-shards.js';

const FORMAT = 1;

interface FeatureIndex extends ShardedIndex {
  format: number;
  dim: number;
}

function readIndex(file: string, dim: number): FeatureIndex {
  try {
    const index = JSON.parse(readFileSync(file, 'utf8')) as FeatureIndex;
    if (index.format === FORMAT && index.dim === dim) return index;
  } catch {
    // Missing or unreadable: start over.
  }
  return { format: FORMAT, dim, shards: [], slots: {} };
}

/**
 * The features of `files` (one row of `dim` per file), computing those the cache lacks with
 * `embed` (indices into `files`, in batches) and keeping them for the next run.
 */
export async function cachedFeatures(
  dir: string,
  files: readonly string[],
  dim: number,
  embed: (which: number[]) => Promise<Float32Array>,
  progress?: (done: number, total: number) => void,
): Promise<{ features: Float32Array; computed: number }> {
  mkdirSync(dir, { recursive: true });
  const indexFile = path.join(dir, 'index.json');
  const signatures = files.map(fileSignature);
  let index = readIndex(indexFile, dim);
  let computed = 0;
  if (signatures.some((s) => !index.slots[s])) {
    const first = new Map<string, number>();
    signatures.forEach((s, i) => first.has(s) || first.set(s, i));
    ({ index, added: computed } = await appendShard(dir, indexFile, () => readIndex(indexFile, dim), signatures, '.f32', 32, async (chunk) => {
      const rows = await embed(chunk.map((s) => first.get(s)!));
      return new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    }, progress));
  }
  const features = new Float32Array(files.length * dim);
  const shards = new Map<number, Float32Array>();
  signatures.forEach((s, i) => {
    const [shard, slot] = index.slots[s]!;
    let data = shards.get(shard);
    if (!data) {
      const bytes = readFileSync(path.join(dir, index.shards[shard]!));
      data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      shards.set(shard, data);
    }
    if ((slot + 1) * dim > data.length) throw new Error(`${path.join(dir, index.shards[shard]!)}: feature shard is short; delete ${dir} to rebuild it`);
    features.set(data.subarray(slot * dim, (slot + 1) * dim), i * dim);
  });
  return { features, computed };
}
