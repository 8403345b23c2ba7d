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
 * so their pixels stay visible. A face box, when given, is outlined in white on the overlay.
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
  const raw = { width: size, height: size, channels: 3 as const };
  const toDisplay = async (pixels: Buffer) => (size === display ? pixels : sharp(pixels, { raw }).resize(display, display, { kernel: size < display ? 'nearest' : 'lanczos3' }).raw().toBuffer());
  // A 128-colour palette for a large input downsampled to the display size (~30 KB a picture in the report otherwise); an enlarged small one compresses well as it is.
  const png = (pixels: Buffer) => sharp(pixels, { raw: { width: display, height: display, channels: 3 } }).png(size > display ? { compressionLevel: 9, palette: true, colours: 128, dither: 0 } : { compressionLevel: 6 }).toBuffer();
  const [input, overlay] = await Promise.all([toDisplay(plain), toDisplay(blended)]);
  if (face) outline(overlay!, display, face.map((v) => (v * display) / size) as InputBox);
  const [inputPng, overlayPng] = await Promise.all([png(input!), png(overlay!)]);
  return { input: inputPng!, overlay: overlayPng! };
}

/** A white rectangle's outline, drawn into an RGB picture of edge `size`. */
function outline(pixels: Buffer, size: number, box: InputBox): void {
  const clamp = (v: number) => Math.min(size - 1, Math.max(0, Math.round(v)));
  const [left, top, right, bottom] = [clamp(box[0]), clamp(box[1]), clamp(box[2] - 1), clamp(box[3] - 1)];
  const white = (x: number, y: number) => pixels.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
  for (let x = left; x <= right; x++) [top, bottom].forEach((y) => white(x, y));
  for (let y = top; y <= bottom; y++) [left, right].forEach((x) => white(x, y));

}
