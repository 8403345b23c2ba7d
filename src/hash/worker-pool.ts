import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { sha256File } from './sha256.js';

interface Job {
  abs: string;
  size: number;
}

/**
 * Below this many bytes the main thread hashes alone: posting work to a worker costs more
 * than hashing a few megabytes.
 */
const PARALLEL_THRESHOLD = 32 * 1024 * 1024;
const BATCH_BYTES = 16 * 1024 * 1024;

export class HashWorkerPool {
  private workers: Worker[] = [];
  private nextId = 0;

  /** Hashes files, in parallel across cores when there are enough bytes to be worth it. */
  async hashAll(jobs: Job[]): Promise<string[]> {
    const total = jobs.reduce((sum, job) => sum + job.size, 0);
    const threads = Math.max(1, availableParallelism());
    if (total < PARALLEL_THRESHOLD || threads < 2 || jobs.length < 2) return jobs.map((job) => sha256File(job.abs));

    const batches: { indices: number[] }[] = [];
    let current: number[] = [];
    let bytes = 0;
    jobs.forEach((job, index) => {
      current.push(index);
      bytes += job.size;
      if (bytes >= BATCH_BYTES || current.length >= 256) {
        batches.push({ indices: current });
        current = [];
        bytes = 0;
      }
    });
    if (current.length) batches.push({ indices: current });

    const results: string[] = new Array(jobs.length);
    while (this.workers.length < threads) {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
      worker.unref();
      this.workers.push(worker);
    }
    let next = 0;
    await Promise.all(
      this.workers.map(async (worker) => {
        while (next < batches.length) {
          const batch = batches[next++];
          const hashes = await this.post(worker, batch.indices.map((i) => jobs[i].abs));
          batch.indices.forEach((jobIndex, k) => (results[jobIndex] = hashes[k]));
        }
      }),
    );
    return results;
  }

  private post(worker: Worker, files: string[]): Promise<string[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (message: { id: number; hashes?: string[]; error?: string }) => {
        if (message.id !== id) return;
        worker.off('message', onMessage);
        if (message.error) reject(new Error(message.error));
        else resolve(message.hashes!);
      };
      worker.on('message', onMessage);
      worker.postMessage({ id, files });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}
