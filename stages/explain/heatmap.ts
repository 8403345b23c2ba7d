import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

/** A box in the network's input pixels: left, top, right, bottom (right and bottom exclusive). */
export type InputBox = [number, number, number, number];

/** A heatmap at the layer's resolution, resized to size x size as torch's bilinear interpolate (align_corners=False) and cv2.resize do it. */
export async function upsample(map: Float32Array, h: number, w: number, size: number): Promise<Float32Array> {
  const resized = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(map, [1, h, w, 1]), [size, size], false, true));
  const values = (await resized.data()) as Float32Array;
  resized.dispose();
  return values;
}

/**
 * Where a heatmap's positive mass lies: the share inside the face box (a pixel counts when its
 * centre is inside) and the share in the outer `border` of the image on every side, where
 * letterbox bars and aspect-ratio shortcuts live. Null when the map has no positive mass (or,
 * for the face, when there is no box).
 */
export function massShares(map: Float32Array, size: number, face: InputBox | undefined, border = 0.1): { face_share: number | null; border_share: number | null } {
  let total = 0;
  let inFace = 0;
  let onBorder = 0;
  const edge = border * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = map[y * size + x]!;
      if (!(v > 0)) continue;
      total += v;
      const cx = x + 0.5;
      const cy = y + 0.5;
      if (face && cx >= face[0] && cx < face[2] && cy >= face[1] && cy < face[3]) inFace += v;
      if (cx < edge || cx > size - edge || cy < edge || cy > size - edge) onBorder += v;
    }
  }
  if (total === 0) return { face_share: null, border_share: null };
  return { face_share: face ? inFace / total : null, border_share: onBorder / total };
}

/** Turbo-like colours from blue (0) through green to red (1), for a heatmap in [0, 1]. */
function colour(t: number): [number, number, number] {
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 1)));
  return [r, g, b];
}

/**
 * The image the network saw and the same image under its heatmap (the positive part, scaled to
 * its maximum), both as PNGs of `display` px: small inputs are enlarged with nearest-neighbour
 * so their pixels stay visible. A face box, when given, is outlined in white.
 */
export async function renderPair(image: Float32Array, map: Float32Array, size: number, display: number, face: InputBox | undefined): Promise<{ input: Buffer; overlay: Buffer }> {
  const max = map.reduce((m, v) => Math.max(m, v), 0);
  const plain = Buffer.alloc(size * size * 3);
  const blended = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const heat = max > 0 ? Math.max(0, map[p]!) / max : 0;
    const [r, g, b] = colour(heat);
    const alpha = 0.25 + 0.45 * heat;
    for (let c = 0; c < 3; c++) {
      const v = image[p * 3 + c]!;
      plain[p * 3 + c] = Math.round(255 * v);
      blended[p * 3 + c] = Math.round(255 * ((1 - alpha) * v + alpha * [r, g, b][c]!));
    }
  }
  const scale = display / size;
  const outline = face ? Buffer.from(`<svg width="${display}" height="${display}"><rect x="${face[0] * scale}" y="${face[1] * scale}" width="${(face[2] - face[0]) * scale}" height="${(face[3] - face[1]) * scale}" fill="none" stroke="white" stroke-width="1.5"/></svg>`) : undefined;
  const png = async (raw: Buffer, boxed: boolean) => {
    const resized = sharp(raw, { raw: { width: size, height: size, channels: 3 } }).resize(display, display, { kernel: size < display ? 'nearest' : 'lanczos3' });
    const composed = boxed && outline ? sharp(await resized.png().toBuffer()).composite([{ input: outline }]) : resized;
    // A 128-colour palette: a large input downsampled to the display size would otherwise cost ~30 KB a picture in the report.
    return composed.png({ compressionLevel: 9, palette: true, colours: 128, dither: 0 }).toBuffer();
  };
  return { input: await png(plain, false), overlay: await png(blended, true) };
}
