/**
 * Trains a small conv net (convolutions, batch norm, max-pool, depthwise) for a few steps on fixed data on the wasm backend and prints the
 * SHA-256 of its weights: the determinism test runs it with different thread counts.
 * Usage: node dist/test/support/train-hash.js <threads>
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../stages/train/backend.js';

async function main(): Promise<void> {
  await initBackend('wasm', Number(process.argv[2] ?? 1));
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [20, 20, 3], filters: 12, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.batchNormalization({}));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  m.compile({ optimizer: tf.train.adam(1e-2), loss: 'binaryCrossentropy' });
  const x = tf.tensor4d(Float32Array.from({ length: 16 * 20 * 20 * 3 }, (_, i) => Math.sin(i * 0.013)), [16, 20, 20, 3]);
  const y = tf.tensor2d(Float32Array.from({ length: 16 }, (_, i) => i % 2), [16, 1]);
  for (let step = 0; step < 5; step++) await m.trainOnBatch(x, y);
  const hash = createHash('sha256');
  for (const w of m.getWeights()) hash.update(w.dataSync() as Float32Array);
  process.stdout.write(`${hash.digest('hex')}\n`);
}

main().then(() => process.exit(0));
