/**
 * Batches streamed from the decoded shards through a worker thread, one request ahead: while
 * the model trains on batch k, the worker reads and augments batch k + 1.
 */
import { Worker } from 'node:worker_threads';
import type { ImageLocation } from '../runtime/decoded-shards.js';
import type { Augmentation } from './augmentation.js';

export interface BatchItem extends ImageLocation {
  augmentation?: Augmentation;
}

export interface BatchRequest {
  id: number;
  size: number;
  items: BatchItem[];
}

export type BatchReply = { id: number; data: Float32Array } | { id: number; error: string };

export class BatchLoader {
  private readonly worker = new Worker(new URL('./batch-worker.js', import.meta.url));
  private readonly pending = new Map<number, { resolve: (data: Float32Array) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor(private readonly size: number) {
    this.worker.on('message', (reply: BatchReply) => {
      const waiter = this.pending.get(reply.id)!;
      this.pending.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.data);
    });
    this.worker.on('error', (error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  /** size x size RGB floats in [0, 1], one image after another. */
  load(items: BatchItem[]): Promise<Float32Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, size: this.size, items } satisfies BatchRequest);
    });
  }

  /** The batches of `items`, `batch` at a time, each requested while the previous one is consumed. */
  async *stream(items: readonly BatchItem[], batch: number): AsyncGenerator<{ start: number; data: Float32Array }> {
    let start = 0;
    let next = items.length > 0 ? this.load(items.slice(0, batch)) : undefined;
    while (next) {
      const data = await next;
      const following = start + batch;
      next = following < items.length ? this.load(items.slice(following, following + batch)) : undefined;
      yield { start, data };
      start = following;
    }
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
