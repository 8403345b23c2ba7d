import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { derivedPath, formatManifest, readDataset, samplePath, MANIFEST } from '../runtime/manifest.js';
import type { BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { initBackend } from '../train/backend.js';

export interface FacecropParams {
  facecrop: {
    /** Extra border around the detected box, as a fraction of its size. */
    margin: number;
    /** Side of the square crops written. */
    size: number;
    /** Detections below this score count as "no face". */
    min_score: number;
    /** TinyFaceDetector input size (a multiple of 32). */
    input_size: number;
  };
}

interface CropRecord {
  path: string;
  detected: boolean;
  score: number | null;
  box: [number, number, number, number];
  fallback: 'none' | 'center-square';
}

interface Detection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

type FaceApi = {
  nets: { tinyFaceDetector: { loadFromDisk(dir: string): Promise<void> } };
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): Promise<Detection[]>;
};

const require = createRequire(import.meta.url);

/**
 * Detects the face in every image with a real detector whose weights ship inside an npm
 * package (@vladmandic/face-api's TinyFaceDetector) and writes square crops with a margin.
 * When nothing is found the centre square is used, and that fallback is recorded. Incremental
 * per image: crops are remembered by image content and settings, so adding 10 images crops 10.
 */
export const facecrop: BuiltinStage<FacecropParams> = {
  declaration,
  async run(ctx) {
    const inDir = ctx.inputs.dataset;
    const out = ctx.outputs.cropped;
    const p = ctx.params.facecrop;
    const memo = ctx.stageCache;
    mkdirSync(memo, { recursive: true });
    const samples = readDataset(inDir);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    let faceapi: FaceApi | undefined;
    const detector = async (): Promise<FaceApi> => {
      if (faceapi) return faceapi;
      await initBackend(process.env.PIPELINE_TF_BACKEND ?? 'wasm');
      faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
      await faceapi.nets.tinyFaceDetector.loadFromDisk(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'));
      return faceapi;
    };
    const records: CropRecord[] = [];
    let reused = 0;
    for (const [i, sample] of samples.entries()) {
      if (ctx.signal.aborted) return;
      const bytes = readFileSync(samplePath(inDir, sample));
      const key = createHash('sha256').update(bytes).update(JSON.stringify(p)).update(declaration.version).digest('hex');
      const dest = derivedPath(out, sample);
      mkdirSync(path.dirname(dest), { recursive: true });
      if (existsSync(path.join(memo, `${key}.json`)) && existsSync(path.join(memo, `${key}.png`))) {
        copyFileSync(path.join(memo, `${key}.png`), dest);
        records.push({ ...(JSON.parse(readFileSync(path.join(memo, `${key}.json`), 'utf8')) as CropRecord), path: sample.path });
        reused++;
        continue;
      }
      const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      // The detector wants faces of a reasonable pixel size: look at an upscaled copy.
      const scale = Math.max(1, Math.ceil(p.input_size / Math.max(info.width, info.height)));
      const big = scale > 1 ? await sharp(bytes).removeAlpha().resize(info.width * scale, info.height * scale, { kernel: 'cubic' }).raw().toBuffer() : data;
      const api = await detector();
      const input = tf.tensor3d(new Int32Array(big), [info.height * scale, info.width * scale, 3], 'int32');
      const found = (await api.detectAllFaces(input, new api.TinyFaceDetectorOptions({ inputSize: p.input_size, scoreThreshold: p.min_score }))).sort((a, b) => b.score - a.score)[0];
      input.dispose();
      let box: [number, number, number, number];
      let record: CropRecord;
      if (found) {
        const side = Math.max(found.box.width, found.box.height) / scale * (1 + 2 * p.margin);
        const cx = (found.box.x + found.box.width / 2) / scale;
        const cy = (found.box.y + found.box.height / 2) / scale;
        box = squareWithin(cx, cy, side, info.width, info.height);
        record = { path: sample.path, detected: true, score: +found.score.toFixed(4), box, fallback: 'none' };
      } else {
        box = squareWithin(info.width / 2, info.height / 2, Math.min(info.width, info.height), info.width, info.height);
        record = { path: sample.path, detected: false, score: null, box, fallback: 'center-square' };
      }
      await sharp(bytes).removeAlpha().extract({ left: box[0], top: box[1], width: box[2], height: box[3] }).resize(p.size, p.size, { fit: 'fill' }).png().toFile(dest);
      copyFileSync(dest, path.join(memo, `${key}.png`));
      writeFileSync(path.join(memo, `${key}.json`), JSON.stringify(record));
      records.push(record);
      if (i % 20 === 0) ctx.progress({ images: `${i + 1}/${samples.length}` });
    }
    writeFileSync(path.join(out, MANIFEST), formatManifest(samples.map((s) => ({ ...s, path: path.relative(out, derivedPath(out, s)).split(path.sep).join('/') }))));
    const detected = records.filter((r) => r.detected).length;
    const bySource: Record<string, number> = {};
    for (const source of [...new Set(samples.map((s) => s.source))].sort()) {
      const of = records.filter((r, k) => samples[k].source === source);
      bySource[source] = of.filter((r) => r.detected).length / of.length;
    }
    writeFileSync(path.join(out, 'crops.json'), JSON.stringify({ detector: 'face-api TinyFaceDetector', detection_rate: detected / records.length, detection_rate_by_source: bySource, fallback: 'center-square', images: records }, null, 1) + '\n');
    ctx.log(`facecrop: ${detected}/${records.length} faces detected (${((100 * detected) / records.length).toFixed(1)}%), ${records.length - detected} centre-square fallbacks, ${reused} crops reused`);
  },
};

/** A square of `side` centred on (cx, cy), shrunk and shifted to fit inside the image. */
function squareWithin(cx: number, cy: number, side: number, width: number, height: number): [number, number, number, number] {
  const s = Math.max(1, Math.min(Math.round(side), width, height));
  const left = Math.min(Math.max(0, Math.round(cx - s / 2)), width - s);
  const top = Math.min(Math.max(0, Math.round(cy - s / 2)), height - s);
  return [left, top, s, s];
}
