import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { derivedPath, formatManifest, readDataset, samplePath, MANIFEST } from '../runtime/manifest.js';
import type { BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { FaceDetector, type Box } from './detect.js';

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

/** One image of crops.json: the square cropped (`box`) and, when a face was found, the detector's own box (`face`, unpadded). */
export interface CropRecord {
  path: string;
  detected: boolean;
  score: number | null;
  box: Box;
  face?: Box;
  fallback: 'none' | 'center-square';
}

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
    const detector = new FaceDetector(p);
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
      const { face: found, width, height } = await detector.detect(bytes);
      let box: Box;
      let record: CropRecord;
      if (found) {
        const [x, y, w, h] = found.box;
        box = squareWithin(x + w / 2, y + h / 2, Math.max(w, h) * (1 + 2 * p.margin), width, height);
        const face = found.box.map((v) => +v.toFixed(2)) as Box;
        record = { path: sample.path, detected: true, score: +found.score.toFixed(4), box, face, fallback: 'none' };
      } else {
        box = squareWithin(width / 2, height / 2, Math.min(width, height), width, height);
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
