import sharp from 'sharp';
import { blockiness, highFrequencyRatio, noiseSigma } from './quality.js';

/** What is computed once per image content and carried in the dataset's manifest. */
export interface ImageProperties {
  /** As displayed (EXIF orientation applied). */
  width: number;
  height: number;
  aspect: number;
  /** Mean grey level, 0..1 (a proxy for exposure or skin tone). */
  luminance: number;
  /** RMS contrast: the standard deviation of the grey levels, 0..1. */
  contrast: number;
  /** Variance of the 4-neighbour Laplacian of the grey image (0..255 levels): low = blurry. */
  sharpness: number;
  /** The IJG quality setting the JPEG's luminance table implies (1..100); null for other formats. */
  jpeg_quality: number | null;
  /** Immerkær's noise estimate, in grey levels (0..255). */
  noise: number | null;
  /** Share of the spectrum's energy above a quarter cycle per pixel: low = blurred. */
  high_frequency: number | null;
  /** Mean step across 8 x 8 block boundaries over the mean step inside blocks (stored pixels): about 1, higher where JPEG blocks show. */
  blockiness: number | null;
  /** BRISQUE (0 best .. 100 worst), when the images stage has OpenCV's model files. */
  brisque?: number | null;
  format: string;
}

/** Properties are measured on the image fitted inside this square, so their cost does not grow with megapixels. */
export const ANALYSIS_SIZE = 512;

export type Inspection = { ok: true; properties: ImageProperties } | { ok: false; reason: string };

export async function inspect(bytes: Buffer): Promise<Inspection> {
  if (bytes.length === 0) return { ok: false, reason: 'empty file (0 bytes)' };
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    // A file that starts like a JPEG or PNG but whose header is cut off is truncated, not a stranger.
    const sniffed = sniffFormat(bytes);
    if (sniffed && isTruncated(bytes, sniffed)) return { ok: false, reason: `truncated (the ${sniffed} file ends before its end marker)` };
    return { ok: false, reason: `not an image (${firstLine(error)})` };
  }
  try {
    // failOn 'warning': a truncated JPEG decodes with a warning; it must not slip in half grey.
    const { data, info } = await sharp(bytes, { failOn: 'warning' })
      .rotate()
      .resize(ANALYSIS_SIZE, ANALYSIS_SIZE, { fit: 'inside', withoutEnlargement: true })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rotated = (metadata.orientation ?? 1) >= 5;
    const width = (rotated ? metadata.height : metadata.width) ?? info.width;
    const height = (rotated ? metadata.width : metadata.height) ?? info.height;
    const { mean, std } = meanStd(data);
    return {
      ok: true,
      properties: {
        width,
        height,
        aspect: round(width / height),
        luminance: round(mean / 255),
        contrast: round(std / 255),
        sharpness: round(laplacianVariance(data, info.width, info.height)),
        jpeg_quality: metadata.format === 'jpeg' ? jpegQuality(bytes) : null,
        noise: roundOrNull(noiseSigma(data, info.width, info.height)),
        high_frequency: roundOrNull(highFrequencyRatio(data, info.width, info.height)),
        blockiness: roundOrNull(await storedBlockiness(bytes, metadata, data, info)),
        format: metadata.format ?? 'unknown',
      },
    };
  } catch (error) {
    const message = firstLine(error);
    if (isTruncated(bytes, metadata.format)) return { ok: false, reason: `truncated (the ${metadata.format} file ends before its end marker)` };
    return { ok: false, reason: /premature end|truncat|unexpected end|end of file/i.test(message) ? `truncated (${message})` : `undecodable (${message})` };
  }
}

const roundOrNull = (v: number | null) => (v === null ? null : round(v));

/**
 * Blockiness needs the stored pixel grid: the analysis image when it is that grid already
 * (no resize, no rotation), else the stored image's top-left 512 x 512, decoded again.
 */
async function storedBlockiness(bytes: Buffer, metadata: sharp.Metadata, analysed: Buffer, info: sharp.OutputInfo): Promise<number | null> {
  const [w, h] = [metadata.width ?? info.width, metadata.height ?? info.height];
  if ((metadata.orientation ?? 1) === 1 && w === info.width && h === info.height) return blockiness(analysed, w, h);
  const crop = { left: 0, top: 0, width: Math.min(w, ANALYSIS_SIZE), height: Math.min(h, ANALYSIS_SIZE) };
  const { data, info: cropped } = await sharp(bytes, { failOn: 'warning' }).extract(crop).greyscale().raw().toBuffer({ resolveWithObject: true });
  return blockiness(data, cropped.width, cropped.height);
}

function sniffFormat(bytes: Buffer): 'jpeg' | 'png' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  return undefined;
}

/** A JPEG ends with EOI (FF D9), a PNG with its IEND chunk: without them the file was cut short. */
function isTruncated(bytes: Buffer, format: string | undefined): boolean {
  if (format === 'jpeg') return !(bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9);
  if (format === 'png') return bytes.subarray(-12, -8).toString('latin1') !== 'IEND';
  return false;
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];
const round = (x: number) => Math.round(x * 1e6) / 1e6;

function meanStd(data: Uint8Array): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  for (const v of data) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / data.length;
  return { mean, std: Math.sqrt(Math.max(0, sumSq / data.length - mean * mean)) };
}

/** Variance of the 4-neighbour Laplacian over interior pixels (OpenCV's Laplacian, ksize 1, on a grey image). */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * grey[i];
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** The IJG standard luminance quantisation table (JPEG Annex K), in the zig-zag order a DQT segment stores it. */
const STANDARD_LUMINANCE_ZIGZAG = [
  16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68,
  87, 69, 55, 56, 80, 109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];

/** The IJG quality whose scaled standard table is nearest this one (exact for libjpeg, Pillow, libvips). */
function closestIjgQuality(table: Uint8Array): number {
  let best = 50;
  let bestDistance = Infinity;
  for (let quality = 1; quality <= 100; quality++) {
    const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    let distance = 0;
    for (let k = 0; k < 64; k++) distance += Math.abs(Math.min(255, Math.max(1, Math.floor((STANDARD_LUMINANCE_ZIGZAG[k] * scale + 50) / 100))) - table[k]);
    if (distance < bestDistance) {
      best = quality;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The quality an IJG-style encoder (libjpeg, PIL, libvips, most cameras' software) was given,
 * from the scale of the file's luminance table against the standard one; null when the file
 * has no 8-bit table 0 (then the quality is not knowable).
 */
export function jpegQuality(bytes: Buffer): number | null {
  let offset = 2;
  while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
    const marker = bytes[offset + 1];
    const length = bytes.readUInt16BE(offset + 2);
    if (marker === 0xda) break; // start of scan: no tables after this
    if (marker === 0xdb) {
      let at = offset + 4;
      const end = offset + 2 + length;
      while (at < end) {
        const precision = bytes[at] >> 4;
        const id = bytes[at] & 0x0f;
        const size = precision ? 128 : 64;
        if (id === 0 && precision === 0) return closestIjgQuality(bytes.subarray(at + 1, at + 65));
        at += 1 + size;
      }
    }
    offset += 2 + length;
  }
  return null;
}
