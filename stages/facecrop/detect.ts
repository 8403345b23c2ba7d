import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../train/backend.js';

/** A box in image pixels: left, top, width, height. */
export type Box = [number, number, number, number];

export interface DetectorSettings {
  /** Detections below this score count as "no face". */
  min_score: number;
  /** TinyFaceDetector input size (a multiple of 32). */
  input_size: number;
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
 * @vladmandic/face-api's TinyFaceDetector, whose weights ship in the npm package: the best face
 * of an image, in its own pixels (facecrop's crops, explain's face boxes when a study has no crops).
 */
export class FaceDetector {
  private api: FaceApi | undefined;

  constructor(private readonly settings: DetectorSettings) {}

  private async load(): Promise<FaceApi> {
    if (this.api) return this.api;
    await initBackend(process.env.PIPELINE_TF_BACKEND ?? 'wasm');
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    await api.nets.tinyFaceDetector.loadFromDisk(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'));
    return (this.api = api);
  }

  /** The highest-scoring face, or undefined; the image's own width and height beside it. */
  async detect(bytes: Buffer): Promise<{ face: { score: number; box: Box } | undefined; width: number; height: number }> {
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // The detector wants faces of a reasonable pixel size: look at an upscaled copy.
    const scale = Math.max(1, Math.ceil(this.settings.input_size / Math.max(info.width, info.height)));
    const big = scale > 1 ? await sharp(bytes).removeAlpha().resize(info.width * scale, info.height * scale, { kernel: 'cubic' }).raw().toBuffer() : data;
    const api = await this.load();
    const input = tf.tensor3d(new Int32Array(big), [info.height * scale, info.width * scale, 3], 'int32');
    const found = (await api.detectAllFaces(input, new api.TinyFaceDetectorOptions({ inputSize: this.settings.input_size, scoreThreshold: this.settings.min_score }))).sort((a, b) => b.score - a.score)[0];
    input.dispose();
    const face = found ? { score: found.score, box: [found.box.x / scale, found.box.y / scale, found.box.width / scale, found.box.height / scale] as Box } : undefined;
    return { face, width: info.width, height: info.height };
  }
}
