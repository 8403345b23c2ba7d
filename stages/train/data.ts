import { decodeImage, ShardReader, type Fit, type ImageLocation } from '../runtime/decoded-shards.js';
import { samplePath, type Sample } from '../runtime/manifest.js';

/**
 * Decodes and resizes images to size x size RGB floats in [0, 1], all in memory (small
 * thumbnails only: `train` streams from decoded shards). `fill` stretches (what most
 * pipelines do, and how a rectangular real photo gets distorted differently from a square
 * fake); `letterbox` pads to square first, the "matched geometry" probe.
 */
export async function loadImages(dir: string, samples: readonly Sample[], size: number, fit: (s: Sample) => Fit): Promise<Float32Array> {
  const out = new Float32Array(samples.length * size * size * 3);
  await Promise.all(
    samples.map(async (s, i) => {
      const data = await decodeImage(samplePath(dir, s), size, fit(s));
      const offset = i * size * size * 3;
      for (let k = 0; k < size * size * 3; k++) out[offset + k] = data[k] / 255;
    }),
  );
  return out;
}

export const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Per-channel mean/std over a set of images (the "real-only" normalisation uses the real training images), one image in memory at a time. */
export function streamedChannelStats(locations: readonly ImageLocation[], size: number): { mean: number[]; std: number[] } {
  const pixels = size * size * 3;
  const reader = new ShardReader(pixels);
  const raw = new Uint8Array(pixels);
  const img = new Float32Array(pixels);
  function* images(): Generator<Float32Array> {
    for (const location of locations) {
      reader.read(location, raw);
      for (let k = 0; k < pixels; k++) img[k] = raw[k]! / 255;
      yield img;
    }
  }
  try {
    return channelStatsOf(images(), size * size);
  } finally {
    reader.close();
  }
}

/** Per-channel mean/std of images added one at a time (population std, as the "real" normalisation uses). */
export class ChannelStats {
  private readonly sum = [0, 0, 0];
  private readonly sq = [0, 0, 0];
  private count = 0;

  constructor(private readonly pixels: number) {}

  add(img: Float32Array): void {
    this.count++;
    for (let p = 0; p < this.pixels; p++) {
      for (let c = 0; c < 3; c++) {
        const v = img[p * 3 + c]!;
        this.sum[c] += v;
        this.sq[c] += v * v;
      }
    }
  }

  result(): { mean: number[]; std: number[] } {
    const n = Math.max(1, this.count * this.pixels);
    const mean = this.sum.map((s) => s / n);
    return { mean, std: this.sq.map((s, c) => Math.sqrt(Math.max(1e-8, s / n - mean[c] * mean[c]))) };
  }
}

function channelStatsOf(images: Iterable<Float32Array>, pixels: number): { mean: number[]; std: number[] } {
  const stats = new ChannelStats(pixels);
  for (const img of images) stats.add(img);
  return stats.result();
}

