/**
 * Training throughput (images/s) of the same CNN and batch on each TensorFlow.js backend that
 * loads here, beside PyTorch on the CPU when Debian's python3-torch is installed.
 * The model is the reference prototype's SimpleCNN (conv32-pool-conv64-pool-conv128-GAP-dense,
 * 93k parameters), 64 px, batch 32, so numbers compare with shared/reference.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';

export interface TrainingRow {
  backend: string;
  imagesPerSecond: number;
  note: string;
}

function simpleCnn(size: number): tf.LayersModel {
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

async function measure(backend: string, steps: number, size = 64, batch = 32, warmup = true): Promise<TrainingRow | undefined> {
  let info;
  try {
    info = await initBackend(backend);
  } catch {
    return undefined;
  }
  const model = simpleCnn(size);
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.randomUniform([batch, 1]).round();
  if (warmup) await model.trainOnBatch(x, y);
  const start = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const seconds = (performance.now() - start) / 1000;
  return { backend: `tfjs ${info.backend}`, imagesPerSecond: (steps * batch) / seconds, note: `${info.detail}${batch !== 32 ? `; batch ${batch}, one step (it is that slow)` : ''}` };
}

const torchScript = `
import time, torch, torch.nn as nn
torch.set_num_threads(2)
m = nn.Sequential(nn.Conv2d(3,32,3,padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32,64,3,padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(64,128,3,padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128,1)).to(memory_format=torch.channels_last)
opt = torch.optim.Adam(m.parameters(), 1e-3)
x = torch.rand(32,3,64,64).to(memory_format=torch.channels_last); y = torch.randint(0,2,(32,1)).float()
def step():
    opt.zero_grad(); nn.functional.binary_cross_entropy_with_logits(m(x), y).backward(); opt.step()
for _ in range(3): step()
t = time.perf_counter(); n = 30
for _ in range(n): step()
print(n*32/(time.perf_counter()-t))
`;

export async function trainingThroughput(): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for (const [backend, steps] of [['tensorflow', 20], ['wasm', 12]] as const) {
    const row = await measure(backend, steps);
    if (row) rows.push(row);
  }
  const cpu = await measure('cpu', 1, 64, 8, false);
  if (cpu) rows.push(cpu);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'torch-bench-')), 'bench.py');
  writeFileSync(file, torchScript);
  const torch = spawnSync('/usr/bin/python3', [file], { encoding: 'utf8' });
  if (torch.status === 0) rows.push({ backend: 'PyTorch (CPU)', imagesPerSecond: Number(torch.stdout.trim()), note: '2 threads, channels_last, Debian python3-torch' });
  else rows.push({ backend: 'PyTorch (CPU)', imagesPerSecond: NaN, note: 'not installed (apt-get install python3-torch)' });
  return rows;
}
