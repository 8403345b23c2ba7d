import sharp from 'sharp';
import { samplePath, type Sample } from '../runtime/manifest.js';

export type Fit = 'fill' | 'letterbox';

/**
 * Decodes and resizes images to size x size RGB floats in [0, 1]. `fill` stretches (what most
 * pipelines do, and how a rectangular real photo gets distorted differently from a square
 * fake); `letterbox` pads to square first, the "matched geometry" probe.
 */
export async function loadImages(dir: string, samples: readonly Sample[], size: number, fit: (s: Sample) => Fit): Promise<Float32Array> {
  const out = new Float32Array(samples.length * size * size * 3);
  await Promise.all(
    samples.map(async (s, i) => {
      const { data } = await sharp(samplePath(dir, s))
        .removeAlpha()
        .resize(size, size, { fit: fit(s) === 'fill' ? 'fill' : 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'cubic' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const offset = i * size * size * 3;
      for (let k = 0; k < size * size * 3; k++) out[offset + k] = data[k] / 255;
    }),
  );
  return out;
}

export const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Per-channel mean/std over a set of images (the "real-only" normalisation uses the real training images). */
export function channelStats(images: Float32Array, indices: readonly number[], size: number): { mean: number[]; std: number[] } {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  const pixels = size * size;
  for (const i of indices) {
    const offset = i * pixels * 3;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) {
        const v = images[offset + p * 3 + c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
  }
  const n = Math.max(1, indices.length * pixels);
  const mean = sum.map((s) => s / n);
  return { mean, std: sq.map((s, c) => Math.sqrt(Math.max(1e-8, s / n - mean[c] * mean[c]))) };
}

/**
 * Training augmentation on one image, in place, driven by the seeded RNG: horizontal flip,
 * a random shift of up to 1/8 of the side (a crop with zero padding), brightness and contrast
 * jitter. Never applied to validation images.
 */
export function augment(img: Float32Array, size: number, random: () => number): void {
  const src = img.slice();
  const flip = random() < 0.5;
  const maxShift = Math.max(1, Math.floor(size / 8));
  const dx = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const dy = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const brightness = (random() - 0.5) * 0.2;
  const contrast = 1 + (random() - 0.5) * 0.3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = (flip ? size - 1 - x : x) + dx;
      const sy = y + dy;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = sx < 0 || sy < 0 || sx >= size || sy >= size ? 0 : src[(sy * size + sx) * 3 + c];
        img[o + c] = Math.min(1, Math.max(0, (v - 0.5) * contrast + 0.5 + brightness));
      }
    }
  }
}
