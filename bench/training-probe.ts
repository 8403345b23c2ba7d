/**
 * One training-throughput measurement in its own process, printed as JSON: a wasm backend's
 * thread count is fixed when it starts, so each configuration needs a fresh process.
 * Usage: node dist/bench/training-probe.js <backend> <threads> <steps> <batch> [--no-warmup]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';

/** The reference prototype's SimpleCNN (conv32-pool-conv64-pool-conv128-GAP-dense, 93k parameters). */
export function simpleCnn(size: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [size, size, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  m.add(tf.layers.conv2d({ filters: 128, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  return m;
}

async function main(): Promise<void> {
  const [backend = 'wasm', threads = '1', steps = '10', batch = '32'] = process.argv.slice(2);
  const size = 64;
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
