/**
 * One training-throughput measurement in its own process, printed as JSON: a wasm backend's
 * thread count is fixed when it starts, so each configuration needs a fresh process.
 * Usage: node dist/bench/training-probe.js <backend> <threads> <steps> <batch> [size] [--no-warmup]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';
import { simpleCnn } from './simple-cnn.js';

async function main(): Promise<void> {
  const [backend = 'wasm', threads = '1', steps = '10', batch = '32', sizeArg = '64'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const size = Number(sizeArg);
  const info = await initBackend(backend, Number(threads));
  if (info.backend !== backend) throw new Error(`asked for ${backend}, got ${info.backend}`);
  const model = simpleCnn(size);
  const x = tf.randomUniform([Number(batch), size, size, 3]);
  const y = tf.randomUniform([Number(batch), 1]).round();
  if (!process.argv.includes('--no-warmup')) await model.trainOnBatch(x, y);
  const start = performance.now();
  for (let i = 0; i < Number(steps); i++) await model.trainOnBatch(x, y);
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(JSON.stringify({ backend: info.backend, detail: info.detail, imagesPerSecond: (Number(steps) * Number(batch)) / seconds }) + '\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
