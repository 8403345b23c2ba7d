/**
 * GPU training throughput: tfjs on WebGPU (Dawn over Vulkan, our kernels) beside PyTorch on
 * the same GPU in strict fp32 (TF32 off), SimpleCNN at 64 and 128 px, batch 32 and 256: the
 * configurations of shared/reference/tfjs-webgpu. Without a GPU it measures WebGPU on Mesa's
 * lavapipe once, a correctness device rather than a speed one, and says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuDevicePresent } from '../stages/train/webgpu/backend.js';

export interface GpuRow {
  config: string;
  webgpu: number | undefined;
  /** The same with tfjs-backend-webgpu's own kernels (PIPELINE_WEBGPU_STOCK_KERNELS=1). */
  stock: number | undefined;
  torch: number | undefined;
  note: string;
}

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'training-probe.js');

function webgpu(size: number, batch: number, steps: number, stock = false): { imagesPerSecond: number; detail: string } | { error: string } {
  const env = { ...process.env, PIPELINE_WEBGPU_STOCK_KERNELS: stock ? '1' : '0' };
  const run = spawnSync(process.execPath, [probe, 'webgpu', '1', String(steps), String(batch), String(size)], { encoding: 'utf8', env });
  if (run.status !== 0) return { error: run.stderr.trim().split('\n').pop() ?? `exit ${run.status}` };
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { imagesPerSecond: number; detail: string };
}

const torchScript = `
import sys, time, torch, torch.nn as nn
size, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
if not torch.cuda.is_available(): sys.exit(3)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
d = torch.device('cuda')
m = nn.Sequential(nn.Conv2d(3,32,3,padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32,64,3,padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(64,128,3,padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128,1)).to(d)
opt = torch.optim.Adam(m.parameters(), 1e-3)
x = torch.rand(batch,3,size,size,device=d); y = torch.randint(0,2,(batch,1),device=d).float()
def step():
    opt.zero_grad(); nn.functional.binary_cross_entropy_with_logits(m(x), y).backward(); opt.step()
for _ in range(5): step()
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(steps): step()
torch.cuda.synchronize()
print(steps*batch/(time.perf_counter()-t))
`;

function torch(file: string, size: number, batch: number, steps: number): number | undefined {
  const python = process.env.PYTHON ?? 'python3';
  const run = spawnSync(python, [file, String(size), String(batch), String(steps)], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : undefined;
}

export function gpuTrainingThroughput(): GpuRow[] {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'torch-gpu-bench-')), 'bench.py');
  writeFileSync(file, torchScript);
  if (!gpuDevicePresent()) {
    const r = webgpu(64, 32, 2);
    const s = webgpu(64, 32, 2, true);
    return [{ config: '64 px, batch 32', webgpu: 'imagesPerSecond' in r ? r.imagesPerSecond : undefined, stock: 'imagesPerSecond' in s ? s.imagesPerSecond : undefined, torch: undefined, note: 'imagesPerSecond' in r ? `no GPU here: ${r.detail}, a software Vulkan (correctness, not speed)` : `no GPU here, and no WebGPU adapter: ${r.error}` }];
  }
  const rows: GpuRow[] = [];
  for (const size of [64, 128])
    for (const batch of [32, 256]) {
      const steps = Math.max(5, Math.round(4096 / batch));
      const w = webgpu(size, batch, steps);
      const s = webgpu(size, batch, Math.max(2, Math.round(steps / 4)), true);
      const t = torch(file, size, batch, steps * 4);
      rows.push({ config: `${size} px, batch ${batch}`, webgpu: 'imagesPerSecond' in w ? w.imagesPerSecond : undefined, stock: 'imagesPerSecond' in s ? s.imagesPerSecond : undefined, torch: t, note: 'imagesPerSecond' in w ? w.detail : w.error });
    }
  if (rows.every((r) => r.torch === undefined)) rows.forEach((r) => (r.note += '; PyTorch with CUDA not importable (set PYTHON to one that has it)'));
  return rows;
}

export function gpuTable(rows: GpuRow[]): string {
  const n = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(1));
  const lines = ['', "| training on the GPU, SimpleCNN | tfjs webgpu, our kernels, images/s | tfjs webgpu, tfjs's kernels | PyTorch fp32 images/s | ours vs PyTorch (goal >= 0.25x) | |", '|---|---:|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.config} | ${n(r.webgpu)} | ${n(r.stock)} | ${n(r.torch)} | ${r.webgpu && r.torch ? `${(r.webgpu / r.torch).toFixed(2)}x` : ''} | ${r.note} |`);
  return lines.join('\n') + '\n';
}
