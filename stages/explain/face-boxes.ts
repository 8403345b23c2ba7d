import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { FaceDetector, type Box } from '../facecrop/detect.js';
import type { CropRecord } from '../facecrop/index.js';
import type { Fit } from '../runtime/decoded-shards.js';
import { StageError } from '../runtime/stage.js';
import type { InputBox } from './heatmap.js';

/** Where the face is in what the network saw, and how that was known. */
export interface FaceInInput {
  box: InputBox | undefined;
  from: 'facecrop' | 'detector' | 'none';
}

/**
 * Face boxes in the network's input pixels: facecrop's detections (crops.json's `face`, in the
 * original image's pixels) when the study has them, else TinyFaceDetector on the image itself;
 * mapped through the fit the network's input was made with (fill stretches, letterbox pads),
 * or, when the network read the crops, through the crop's square.
 */
export class FaceBoxes {
  private readonly crops: Map<string, CropRecord> | undefined;
  private detector: FaceDetector | undefined;

  constructor(cropsDir: string | undefined) {
    const file = cropsDir ? path.join(cropsDir, 'crops.json') : undefined;
    if (file && !existsSync(file)) throw new StageError(`${cropsDir}: no crops.json (the input \`cropped\` is facecrop's output folder)`);
    this.crops = file ? new Map((JSON.parse(readFileSync(file, 'utf8')) as { images: CropRecord[] }).images.map((r) => [r.path, r])) : undefined;
  }

  /** `rawPath`: the image's path in the dataset (crops.json's key); `file`: the image the network read; `cropped`: that file is facecrop's crop. */
  async of(rawPath: string, file: string, size: number, fit: Fit, cropped: boolean): Promise<FaceInInput> {
    const record = this.crops?.get(rawPath);
    if (record) {
      if (!record.detected || !record.face) return { box: undefined, from: 'none' };
      if (cropped) {
        const [left, top, side] = record.box;
        return { box: toInput(record.face.map((v, i) => (i < 2 ? v - (i === 0 ? left : top) : v)) as Box, side, side, size, 'fill'), from: 'facecrop' };
      }
      const { width, height } = await sharp(file).metadata();
      return { box: toInput(record.face, width!, height!, size, fit), from: 'facecrop' };
    }
    this.detector ??= new FaceDetector({ min_score: 0.3, input_size: 160 });
    const { face, width, height } = await this.detector.detect(readFileSync(file));
    return face ? { box: toInput(face.box, width, height, size, fit), from: 'detector' } : { box: undefined, from: 'none' };
  }
}

/** A box in an image of width x height, in the size x size input that `fit` made of it (sharp's fill, or contain centred on black). */
export function toInput(box: Box, width: number, height: number, size: number, fit: Fit): InputBox {
  const [x, y, w, h] = box;
  if (fit === 'fill') {
    const sx = size / width;
    const sy = size / height;
    return [x * sx, y * sy, (x + w) * sx, (y + h) * sy];
  }
  const s = Math.min(size / width, size / height);
  const dx = (size - Math.round(width * s)) / 2;
  const dy = (size - Math.round(height * s)) / 2;
  return [dx + x * s, dy + y * s, dx + (x + w) * s, dy + (y + h) * s];
}
