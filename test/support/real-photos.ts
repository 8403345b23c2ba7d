import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const script = fileURLToPath(new URL('../../../test/support/real-photos.sh', import.meta.url));

/** scikit-image's sample data from Debian's python3-skimage (see real-photos.sh), or undefined without a mirror. */
export function skimageData(): string | undefined {
  const r = spawnSync('bash', [script, path.join(process.env.PIPELINE_TEST_CACHE ?? tmpdir(), 'pipeline-real-photos')], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Reads a float64, C-order .npy array (what lfw_subset.npy is). */
function readNpy(file: string): { shape: number[]; data: Float64Array } {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  if (!header.includes("'descr': '<f8'") || header.includes("'fortran_order': True")) throw new Error(`${file}: expected a little-endian float64 C-order array`);
  const shape = [.../'shape': \(([^)]*)\)/.exec(header)![1].matchAll(/\d+/g)].map((m) => Number(m[0]));
  const start = 10 + headerLength;
  const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  return { shape, data };
}

/**
 * A folder study of real photographs: scikit-image's subset of Labeled Faces in the Wild
 * (100 face and 100 non-face crops, 25x25 grey) as `<dest>/face/lfw/*.jpg` and
 * `<dest>/non_face/lfw/*.jpg`, plus the package's genuinely truncated JPEG and an empty file
 * among the faces (both must be excluded, not fatal). Returns undefined without a mirror.
 */
export async function lfwFolder(dest: string): Promise<string | undefined> {
  const data = skimageData();
  if (!data) return undefined;
  if (existsSync(path.join(dest, 'face'))) return dest;
  const { shape, data: pixels } = readNpy(path.join(data, 'lfw_subset.npy'));
  const [count, height, width] = shape;
  for (let i = 0; i < count; i++) {
    const cls = i < count / 2 ? 'face' : 'non_face';
    const grey = Buffer.alloc(width * height);
    for (let p = 0; p < width * height; p++) grey[p] = Math.round(pixels[i * width * height + p] * 255);
    mkdirSync(path.join(dest, cls, 'lfw'), { recursive: true });
    await sharp(grey, { raw: { width, height, channels: 1 } }).resize(width * 2, height * 2).jpeg({ quality: 90 }).toFile(path.join(dest, cls, 'lfw', `${cls}_${String(i).padStart(3, '0')}.jpg`));
  }
  copyFileSync(path.join(data, 'truncated.jpg'), path.join(dest, 'face', 'lfw', 'truncated.jpg'));
  writeFileSync(path.join(dest, 'face', 'lfw', 'empty.jpg'), '');
  return dest;
}
