import { gaussian } from '../runtime/rng.js';

/** An RGB float image in [0, 1], row-major, 3 channels. */
export interface Image {
  width: number;
  height: number;
  data: Float32Array;
}

/** What the generator drew for one image beyond its identity: recorded in the manifest, so a model can be asked to read it back. */
export interface Pose {
  /** Horizontal lighting, -0.3 (lit from the left) to 0.3 (from the right): the face's shading gradient. */
  light: number;
  /** Face size as a share of the shorter side. */
  scale: number;
}

/** The look of one identity: the same face across its real photos and the fakes made of it. */
export interface Identity {
  skin: [number, number, number];
  hair: [number, number, number];
  background: [number, number, number];
  faceAspect: number;
  eyeSpacing: number;
  eyeSize: number;
  mouthWidth: number;
}

export function makeIdentity(random: () => number): Identity {
  const tone = 0.35 + random() * 0.5;
  return {
    skin: [Math.min(1, tone + 0.15), tone * 0.82, tone * 0.68],
    hair: [random() * 0.35, random() * 0.25, random() * 0.2],
    background: [0.2 + random() * 0.6, 0.2 + random() * 0.6, 0.2 + random() * 0.6],
    faceAspect: 1.15 + random() * 0.25,
    eyeSpacing: 0.32 + random() * 0.12,
    eyeSize: 0.07 + random() * 0.03,
    mouthWidth: 0.28 + random() * 0.14,
  };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Draws a face-like image: background, hair, shaded face ellipse, eyes, nose shadow, mouth. */
export function drawFace(id: Identity, width: number, height: number, random: () => number): Image & { pose: Pose } {
  const data = new Float32Array(width * height * 3);
  const cx = width * (0.5 + (random() - 0.5) * 0.08);
  const cy = height * (0.52 + (random() - 0.5) * 0.08);
  const scale = Math.min(width, height) * (0.34 + (random() - 0.5) * 0.05);
  const rx = scale;
  const ry = scale * id.faceAspect;
  const light = (random() - 0.5) * 0.6;
  const eyeY = cy - ry * 0.18;
  const eyeDx = rx * id.eyeSpacing * 1.6;
  const eyeR = scale * id.eyeSize * 1.6;
  const mouthY = cy + ry * 0.45;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const g = 0.85 + 0.3 * (y / height);
      let [r, gg, b] = id.background.map((c) => c * g) as [number, number, number];
      const fx = (x - cx) / rx;
      const fy = (y - cy) / ry;
      const hairD = ((x - cx) / (rx * 1.12)) ** 2 + ((y - (cy - ry * 0.25)) / (ry * 0.95)) ** 2;
      if (hairD < 1 && y < cy) [r, gg, b] = id.hair;
      const d = fx * fx + fy * fy;
      if (d < 1) {
        const shade = 1 - 0.35 * d + light * fx * 0.4;
        [r, gg, b] = id.skin.map((c) => c * shade) as [number, number, number];
        const ex = Math.min(Math.hypot(x - (cx - eyeDx), y - eyeY), Math.hypot(x - (cx + eyeDx), y - eyeY));
        if (ex < eyeR) [r, gg, b] = [0.08, 0.06, 0.05];
        else if (ex < eyeR * 1.6) [r, gg, b] = [0.92, 0.92, 0.9];
        const mx = (x - cx) / (rx * id.mouthWidth);
        const my = (y - mouthY) / (ry * 0.06);
        if (mx * mx + my * my < 1) [r, gg, b] = [0.55, 0.15, 0.18];
        if (Math.abs(x - cx) < rx * 0.06 && y > eyeY && y < mouthY - ry * 0.12) {
          r *= 0.85;
          gg *= 0.85;
          b *= 0.85;
        }
      }
      data[o] = r;
      data[o + 1] = gg;
      data[o + 2] = b;
    }
  }
  return { width, height, data, pose: { light, scale: scale / Math.min(width, height) } };
}

/** Camera sensor noise: what real photos have and most generators smooth away. */
export function addNoise(img: Image, sigma: number, random: () => number): void {
  for (let i = 0; i < img.data.length; i++) img.data[i] = clamp(img.data[i] + sigma * gaussian(random));
}

/** Text-to-image: a faint 2-pixel checkerboard (upsampling artifact) and oversaturated colour. */
export function text2imgArtifact(img: Image): void {
  const { width, height, data } = img;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const mean = (data[o] + data[o + 1] + data[o + 2]) / 3;
      const tick = ((x >> 1) + (y >> 1)) % 2 === 0 ? 0.05 : -0.05;
      for (let c = 0; c < 3; c++) data[o + c] = clamp(mean + (data[o + c] - mean) * 1.35 + tick);
    }
  }
}

/** Inpainting: a region of the lower face replaced by a smooth, slightly off-colour fill. */
export function inpaintingArtifact(img: Image, random: () => number): void {
  const { width, height, data } = img;
  const w = Math.round(width * (0.3 + random() * 0.15));
  const h = Math.round(height * (0.2 + random() * 0.1));
  const x0 = Math.round(width * 0.5 - w / 2);
  const y0 = Math.round(height * 0.55);
  const src = data.slice();
  for (let y = y0; y < Math.min(height, y0 + h); y++) {
    for (let x = x0; x < Math.min(width, x0 + w); x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) {
            const yy = Math.min(height - 1, Math.max(0, y + dy));
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            sum += src[(yy * width + xx) * 3 + c];
            n++;
          }
        data[(y * width + x) * 3 + c] = clamp(sum / n + (c === 2 ? 0.06 : -0.02));
      }
    }
  }
}

/** Face-swap ("insight"): the red channel shifted by a pixel and an over-sharpened edge ring. */
export function insightArtifact(img: Image): void {
  const { width, height, data } = img;
  const src = data.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const xs = Math.min(width - 1, x + 1);
      data[o] = src[(y * width + xs) * 3];
      if (x > 0 && y > 0 && x < width - 1 && y < height - 1) {
        for (let c = 1; c < 3; c++) {
          const lap = 4 * src[o + c] - src[o - 3 + c] - src[o + 3 + c] - src[o - width * 3 + c] - src[o + width * 3 + c];
          data[o + c] = clamp(src[o + c] + 0.6 * lap);
        }
      }
    }
  }
}

export function toUint8(img: Image): Buffer {
  const out = Buffer.alloc(img.data.length);
  for (let i = 0; i < img.data.length; i++) out[i] = Math.round(clamp(img.data[i]) * 255);
  return out;
}
