/**
 * Pretrained backbones at their recipe's size (224 px, batch 8): training images/s (a full
 * fine-tuning step) and frozen-feature images/s (the backbone in evaluation mode, what
 * `freeze: backbone` runs once per image), ours on the wasm backend with the project's
 * kernels beside PyTorch on the same CPU (Debian's python3-torch). The goal is >= 0.5x.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';
import { buildTorchvisionModel } from '../stages/train/archs/build.js';
import { architecture } from '../stages/train/archs/registry.js';

export interface BackboneRow {
  arch: string;
  tool: string;
  trainPerSecond: number;
  featuresPerSecond: number;
}

const SIZE = 224;
// Batch 32 at 224 px does not fit: resnet18's training step needs ~170 MB of wasm heap per image and the heap
// is 32-bit (4 GiB; at batch 24 it is full and the next allocation hangs the backend). 8 fits.
const BATCH = 8;

async function ours(arch: string, steps: number): Promise<BackboneRow> {
  const model = buildTorchvisionModel(architecture(arch)!, SIZE, 1);
  const x = tf.randomNormal([BATCH, SIZE, SIZE, 3]);
  const y = tf.zeros([BATCH, 1]);
  const optimizer = tf.train.adam(1e-3);
  const step = () => optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  step();
  let started = performance.now();
  for (let i = 0; i < steps; i++) step();
  const trainPerSecond = (steps * BATCH) / ((performance.now() - started) / 1000);
  (model.predict(x) as tf.Tensor).dispose();
  started = performance.now();
  for (let i = 0; i < steps; i++) (model.predict(x) as tf.Tensor).dataSync();
  const featuresPerSecond = (steps * BATCH) / ((performance.now() - started) / 1000);
  tf.dispose([x, y]);
  model.dispose();
  return { arch, tool: 'pipeline (tfjs wasm)', trainPerSecond, featuresPerSecond };
}

function pytorch(arch: string, steps: number): BackboneRow {
  const script = `
import time, torch, torchvision
torch.set_num_threads(${availableParallelism()})
m = getattr(torchvision.models, "${arch}")(weights=None, num_classes=1).to(memory_format=torch.channels_last)
x = torch.randn(${BATCH}, 3, ${SIZE}, ${SIZE}).to(memory_format=torch.channels_last); y = torch.zeros(${BATCH}, 1)
opt = torch.optim.Adam(m.parameters(), 1e-3); loss = torch.nn.BCEWithLogitsLoss()
def step():
    opt.zero_grad(); loss(m(x), y).backward(); opt.step()
m.train(); step(); t = time.perf_counter()
for _ in range(${steps}): step()
train = ${steps * BATCH} / (time.perf_counter() - t)
m.eval()
with torch.no_grad():
    m(x); t = time.perf_counter()
    for _ in range(${steps}): m(x)
print(train, ${steps * BATCH} / (time.perf_counter() - t))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) return { arch, tool: 'PyTorch (CPU): not installed (apt-get install python3-torchvision)', trainPerSecond: NaN, featuresPerSecond: NaN };
  const [train, features] = run.stdout.trim().split(/\s+/).map(Number);
  return { arch, tool: `PyTorch ${availableParallelism()} threads, channels_last`, trainPerSecond: train!, featuresPerSecond: features! };
}

export async function backboneThroughput(steps = 2): Promise<BackboneRow[]> {
  await initBackend('wasm');
  const rows: BackboneRow[] = [];
  for (const arch of ['resnet18', 'mobilenet_v3_small']) {
    process.stderr.write(`${arch} at ${SIZE} px, batch ${BATCH}...\n`);
    rows.push(await ours(arch, steps), pytorch(arch, steps));
  }
  return rows;
}

export function backboneTable(rows: BackboneRow[]): string {
  const lines = ['', `| backbone, ${SIZE} px, batch ${BATCH} | tool | train images/s | vs PyTorch | frozen-feature images/s | vs PyTorch |`, '|---|---|---:|---:|---:|---:|'];
  const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(1));
  for (const row of rows) {
    const torch = rows.find((r) => r.arch === row.arch && r.tool.startsWith('PyTorch'));
    const ratio = (a: number, b: number | undefined) => (b && !Number.isNaN(a) && !Number.isNaN(b) && row !== torch ? `${(a / b).toFixed(2)}x` : '');
    lines.push(`| ${row.arch} | ${row.tool} | ${fmt(row.trainPerSecond)} | ${ratio(row.trainPerSecond, torch?.trainPerSecond)} | ${fmt(row.featuresPerSecond)} | ${ratio(row.featuresPerSecond, torch?.featuresPerSecond)} |`);
  }
  return lines.join('\n') + '\n';
}
