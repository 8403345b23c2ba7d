/**
 * Assembles training batches off the main thread: reads each image's decoded bytes from its
 * shard, scales to [0, 1] floats and applies its augmentation, while the main thread trains
 * on the previous batch.
 */
import { parentPort } from 'node:worker_threads';
import { ShardReader } from '../runtime/decoded-shards.js';
import { applyAugmentation } from './augmentation.js';
import type { BatchRequest, BatchReply } from './batches.js';

const readers = new Map<number, ShardReader>();

parentPort!.on('message', (request: BatchRequest) => {
  try {
    const pixels = request.size * request.size * 3;
    let reader = readers.get(pixels);
    if (!reader) readers.set(pixels, (reader = new ShardReader(pixels)));
    const out = new Float32Array(request.items.length * pixels);
    const raw = new Uint8Array(pixels);
    const img = new Float32Array(pixels);
    request.items.forEach((item, k) => {
      reader.read(item, raw);
      for (let i = 0; i < pixels; i++) img[i] = raw[i]! / 255;
      if (item.augmentation) applyAugmentation(img, request.size, item.augmentation);
      out.set(img, k * pixels);
    });
    parentPort!.postMessage({ id: request.id, data: out } satisfies BatchReply, [out.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message } satisfies BatchReply);
  }
});
