/**
 * A training stage's peak memory against the number of images: the same one-epoch run of
 * `train` (SimpleCNN, 64 px, batch 64, augmentation on) on 2k and 16k generated JPEGs, cold
 * (decoding into the shared shards) and warm (shards built), peak RSS from GNU time. Beside
 * it, what the data set alone took in memory before streaming (float32, every image).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export interface MemoryRow {
  images: number;
  phase: 'cold' | 'warm';
  seconds: number;
  peakMb: number;
  /** The old loader's float32 copy of every image, in MB. */
  inMemoryMb: number;
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pipeline.js');
const SIZE = 64;

async function writeImages(dir: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, count - start) }, async (_, k) => {
        const i = start + k;
        const label = i % 2 === 0 ? 'real' : 'fake';
        const pixels = Buffer.alloc(SIZE * SIZE * 3);
        let state = i * 2654435761;
        for (let p = 0; p < pixels.length; p++) {
          state = (state * 1103515245 + 12345) >>> 0;
          pixels[p] = (state >>> 24) % 200 + (label === 'fake' ? 40 : 0);
        }
        const file = path.join(dir, 'photos', label, `img${i}.jpg`);
        await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 3 } }).jpeg({ quality: 85 }).toFile(file);
      }),
    );
  }
}

function project(dir: string): void {
  writeFileSync(
    path.join(dir, 'params.yaml'),
    [
      'seed: 1',
      'cv: { folds: 2 }',
      'model: { arch: simple_cnn, width: 4, depth: 1 }',
      `data: { input: raw, size: ${SIZE}, fraction: 1, eval_geometry: same }`,
      'train: { epochs: 1, batch_size: 64, lr: 0.003, weight_decay: 0.0001, patience: 1, augment: true, normalization: imagenet }',
    ].join('\n') + '\n',
  );
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    [
      'version: 1',
      'params: [params.yaml]',
      'stages:',
      '  images:',
      '    uses: images',
      '    deps: { images: photos }',
      '    with: { positive: fake }',
      '    outs: { dataset: data/dataset }',
      '  split:',
      '    uses: split',
      '    deps: { dataset: data/dataset }',
      '    params: [seed, cv]',
      '    outs: { splits: outputs/splits.json }',
      '  train:',
      '    uses: train',
      '    with: { fold: 0 }',
      '    deps: { splits: outputs/splits.json, dataset: data/dataset }',
      '    params: [seed, model, data, train]',
      '    outs: { run: outputs/run }',
    ].join('\n') + '\n',
  );
}

function timed(dir: string, args: string[]): { seconds: number; peakMb: number } {
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB %M', process.execPath, cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PIPELINE_TF_BACKEND: 'wasm' } });
  const peak = /PEAK_KB (\d+)/.exec(run.stderr);
  if (run.status !== 0 || !peak) throw new Error(`pipeline ${args.join(' ')} failed in ${dir}:\n${run.stdout}\n${run.stderr}`);
  return { seconds: (performance.now() - started) / 1000, peakMb: Number(peak[1]) / 1024 };
}

export async function trainingMemory(root: string, counts: number[]): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const count of counts) {
    const dir = path.join(root, `train-memory-${count}`);
    rmSync(dir, { recursive: true, force: true });
    for (const label of ['real', 'fake']) mkdirSync(path.join(dir, 'photos', label), { recursive: true });
    process.stderr.write(`  ${count} images: writing JPEGs, building the dataset and split...\n`);
    await writeImages(dir, count);
    project(dir);
    timed(dir, ['run', 'split']);
    const inMemoryMb = (count * SIZE * SIZE * 3 * 4) / 1024 / 1024;
    rows.push({ images: count, phase: 'cold', inMemoryMb, ...timed(dir, ['run', 'train']) });
    rows.push({ images: count, phase: 'warm', inMemoryMb, ...timed(dir, ['run', 'train', '-S', 'train.lr=0.002']) });
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function memoryTable(rows: MemoryRow[]): string {
  const first = rows.find((r) => r.phase === 'warm');
  const lines = ['', `| train, 1 epoch, ${SIZE} px (peak RSS: GNU time) | seconds | peak RSS MB | vs ${first?.images ?? ''} images | data set as float32 (the old loader held it) |`, '|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const base = rows.find((b) => b.phase === r.phase && b.images === first?.images);
    lines.push(`| ${r.images} images, ${r.phase === 'cold' ? 'cold (decodes into shards)' : 'warm (shards built)'} | ${r.seconds.toFixed(1)} | ${r.peakMb.toFixed(0)} | ${base ? (r.peakMb / base.peakMb).toFixed(2) + 'x' : ''} | ${r.inMemoryMb.toFixed(0)} MB |`);
  }
  return lines.join('\n') + '\n';
}
