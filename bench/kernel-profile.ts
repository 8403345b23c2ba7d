/**
 * Where a wasm training step goes: wraps every kernel of the backend with a timer and trains the
 * bench's SimpleCNN, or one of the study's models.
 * Usage: node dist/bench/kernel-profile.js [threads] [steps] [size] [simple|resnet|mobilenet|<torchvision arch>] [batch] [--stock]
 * (--stock: the backend's own kernels only, where it has them)
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';
import { buildModel } from '../stages/train/models.js';
import { buildTorchvisionModel } from '../stages/train/archs/build.js';
import { architecture } from '../stages/train/archs/registry.js';
import { simpleCnn } from './simple-cnn.js';

async function main(): Promise<void> {
  const [threads = '1', steps = '5', size = '64', arch = 'simple', batch = '32'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  await initBackend('wasm', Number(threads));
  const totals = new Map<string, { ms: number; calls: number }>();
  for (const config of tf.getKernelsForBackend('wasm')) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const start = performance.now();
        const out = inner(args);
        const entry = totals.get(config.kernelName) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - start;
        entry.calls++;
        totals.set(config.kernelName, entry);
        return out;
      },
    });
  }
  const torchvision = architecture(arch);
  const model = arch === 'simple' ? simpleCnn(Number(size)) : torchvision ? buildTorchvisionModel(torchvision, Number(size), 1) : buildModel({ arch, width: 8, depth: 1 } as Parameters<typeof buildModel>[0], Number(size), 1);
  if (arch !== 'simple') model.compile({ optimizer: tf.train.adam(1e-3), loss: torchvision ? 'meanSquaredError' : 'binaryCrossentropy' });
  const x = tf.randomUniform([Number(batch), Number(size), Number(size), 3]);
  const y = tf.randomUniform([Number(batch), 1]).round();
  await model.trainOnBatch(x, y);
  totals.clear();
  const start = performance.now();
  for (let i = 0; i < Number(steps); i++) await model.trainOnBatch(x, y);
  const step = (performance.now() - start) / Number(steps);
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`step ${step.toFixed(1)} ms (${threads} thread(s)); kernels ${(rows.reduce((s, [, v]) => s + v.ms, 0) / Number(steps)).toFixed(1)} ms`);
  for (const [name, { ms, calls }] of rows) if (ms / Number(steps) >= 0.5) console.log(`${name.padEnd(24)} ${(ms / Number(steps)).toFixed(1).padStart(7)} ms  ${(calls / Number(steps)).toFixed(0)} calls`);
}

main().then(() => process.exit(0));
