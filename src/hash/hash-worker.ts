import { parentPort } from 'node:worker_threads';
import { sha256File } from './sha256.js';

/** Hashes batches of files off the main thread so cold hashing of a large tree uses every core. */
parentPort!.on('message', (batch: { id: number; files: string[] }) => {
  try {
    parentPort!.postMessage({ id: batch.id, hashes: batch.files.map(sha256File) });
  } catch (error) {
    parentPort!.postMessage({ id: batch.id, error: String((error as Error).message) });
  }
});
