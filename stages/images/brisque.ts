import { readFileSync } from 'node:fs';
import jsYaml from 'js-yaml';
import { StageError } from '../runtime/stage.js';

/**
 * BRISQUE (Mittal, Moorthy and Bovik 2012) as OpenCV's quality module computes it
 * (cv2.quality.QualityBRISQUE, checked on test/fixtures/brisque): 36 natural-scene statistics
 * of the grey image at two scales, scaled by the range file, scored by the model file's SVR.
 * 0 is best, 100 worst. The model and range files are OpenCV's own (brisque_model_live.yml,
 * brisque_range_live.yml from opencv_contrib's samples, or any model cv2.ml.SVM saved).
 */

/** Lanczos' approximation (g = 7, n = 9): the gamma function to ~1e-15, as C's tgamma for these arguments. */
function gamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return Math.sqrt(2 * Math.PI) * t ** (z + 0.5) * Math.exp(-t) * a;
}

/** OpenCV computes BRISQUE in float32 (its sigma subtracts two close numbers): each step is rounded to float32 as there. */
const f32 = Math.fround;

/** A grey image in [0, 1], row-major. */
interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

/** OpenCV's 8-bit BGR2GRAY (fixed point, rounded), from RGB pixels. */
export function opencvGrey(rgb: Uint8Array | Buffer, width: number, height: number, channels: number): Plane {
  const data = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [rgb[i * channels], rgb[i * channels + 1], rgb[i * channels + 2]];
    data[i] = f32(((r * 4899 + g * 9617 + b * 1868 + 8192) >> 14) * (1 / 255));
  }
  return { width, height, data };
}

/** cv::resize with INTER_CUBIC (A = -0.75, pixel centres aligned, edges replicated), rows then columns. */
function resizeCubic(src: Plane, width: number, height: number): Plane {
  if (width === src.width && height === src.height) return src;
  const weights = (t: number) => {
    const A = -0.75;
    const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
    const w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
    const w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
    return [w0, w1, w2, 1 - w0 - w1 - w2].map(f32);
  };
  const taps = (dst: number, srcSize: number) =>
    Array.from({ length: dst }, (_, x) => {
      const f = (x + 0.5) * (srcSize / dst) - 0.5;
      const s = Math.floor(f);
      return { at: [s - 1, s, s + 1, s + 2].map((k) => Math.min(srcSize - 1, Math.max(0, k))), w: weights(f - s) };
    });
  const tx = taps(width, src.width);
  const ty = taps(height, src.height);
  const rows = new Float64Array(width * src.height);
  for (let y = 0; y < src.height; y++) for (let x = 0; x < width; x++) rows[y * width + x] = tx[x].at.reduce((a, k, j) => f32(a + f32(src.data[y * src.width + k] * tx[x].w[j])), 0);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = ty[y].at.reduce((a, k, j) => f32(a + f32(rows[k * width + x] * ty[y].w[j])), 0);
  return { width, height, data: out };
}

/** cv::GaussianBlur 7 x 7, sigma 7/6, BORDER_REPLICATE: separable, rows then columns. */
export function gaussianBlur(src: Plane): Plane {
  const sigma = 7 / 6;
  const raw = Array.from({ length: 7 }, (_, i) => Math.exp(-((i - 3) ** 2) / (2 * sigma * sigma)));
  const sum = raw.reduce((a, b) => a + b, 0);
  const k = raw.map((v) => f32(v / sum));
  const { width, height } = src;
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const rows = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rows[y * width + x] = k.reduce((a, w, i) => f32(a + f32(w * src.data[y * width + clamp(x + i - 3, width)])), 0);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = k.reduce((a, w, i) => f32(a + f32(w * rows[clamp(y + i - 3, height) * width + x])), 0);
  return { width, height, data: out };
}

/** The asymmetric generalised Gaussian fit of OpenCV's AGGDfit: left and right spreads, and the shape from its 0.001 grid. */
function aggdFit(values: Float64Array): { left: number; right: number; shape: number } {
  let [pos, neg, posSq, negSq, abs] = [0, 0, 0, 0, 0];
  for (const v of values) {
    if (v > 0) [pos, posSq] = [pos + 1, posSq + v * v];
    else if (v < 0) [neg, negSq] = [neg + 1, negSq + v * v];
    abs += Number.isNaN(v) ? 0 : Math.abs(v);
  }
  const left = Math.sqrt(negSq / neg);
  const right = Math.sqrt(posSq / pos);
  const gammaHat = left / right;
  const total = values.length;
  const rHat = (abs / total) ** 2 / ((negSq + posSq) / total);
  const rHatNorm = (rHat * (gammaHat ** 3 + 1) * (gammaHat + 1)) / (gammaHat ** 2 + 1) ** 2;
  let [previous, best] = [1e10, 0];
  for (let g = 0.2; g < 10; g += 0.001) {
    const diff = Math.abs((gamma(2 / g) * gamma(2 / g)) / (gamma(1 / g) * gamma(3 / g)) - rHatNorm);
    if (diff > previous) break;
    [previous, best] = [diff, g];
  }
  return { left, right, shape: best };
}

/** The 36 features: at each of two scales, the MSCN coefficients' fit and four oriented pairwise products' fits. */
export function brisqueFeatures(grey: Plane): number[] {
  const features: number[] = [];
  for (let scale = 1; scale <= 2; scale++) {
    const image = resizeCubic(grey, Math.trunc(grey.width / 2 ** (scale - 1)), Math.trunc(grey.height / 2 ** (scale - 1)));
    const { width, height } = image;
    const mu = gaussianBlur(image);
    const squares = gaussianBlur({ width, height, data: image.data.map((v) => f32(v * v)) });
    const mscn = image.data.map((v, i) => f32(f32(v - mu.data[i]) / f32(f32(Math.sqrt(f32(squares.data[i] - f32(mu.data[i] * mu.data[i])))) + f32(1 / 255))));
    const fit = aggdFit(mscn);
    features.push(fit.shape, (fit.left ** 2 + fit.right ** 2) / 2);
    for (const [dy, dx] of [[0, 1], [1, 0], [1, 1], [-1, 1]]) {
      const products = new Float64Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const [yy, xx] = [y + dy, x + dx];
          products[y * width + x] = yy >= 0 && yy < height && xx >= 0 && xx < width ? f32(mscn[y * width + x] * mscn[yy * width + xx]) : 0;
        }
      }
      const pair = aggdFit(products);
      const constant = Math.sqrt(gamma(1 / pair.shape)) / Math.sqrt(gamma(3 / pair.shape));
      features.push(pair.shape, (pair.right - pair.left) * (gamma(2 / pair.shape) / gamma(1 / pair.shape)) * constant, pair.left ** 2, pair.right ** 2);
    }
  }
  return features;
}

/** An OpenCV SVR model (cv::ml::SVM saved as YAML) and a feature range file: what scores the features. */
export interface BrisqueModel {
  gamma: number;
  supportVectors: number[][];
  alpha: number[];
  rho: number;
  range: { min: number[]; max: number[] };
}

/** OpenCV's YAML: a `%YAML:1.0` line, `!!opencv-matrix` mappings. */
function readOpenCvYaml(file: string): Record<string, unknown> {
  const matrix = new jsYaml.Type('tag:yaml.org,2002:opencv-matrix', { kind: 'mapping', construct: (data: unknown) => data });
  try {
    return jsYaml.load(readFileSync(file, 'utf8').replace(/^%YAML:1\.0\r?\n/, ''), { schema: jsYaml.CORE_SCHEMA.extend([matrix]) }) as Record<string, unknown>;
  } catch (error) {
    throw new StageError(`${file}: not an OpenCV YAML file (${(error as Error).message.split('\n')[0]})`);
  }
}

export function loadBrisqueModel(modelFile: string, rangeFile: string): BrisqueModel {
  const svm = readOpenCvYaml(modelFile).opencv_ml_svm as
    | { svmType?: string; kernel?: { type?: string; gamma?: number }; var_count?: number; support_vectors?: number[][]; decision_functions?: { alpha: number[]; rho: number; index?: number[] }[] }
    | undefined;
  if (!svm || svm.svmType !== 'EPS_SVR' || svm.kernel?.type !== 'RBF' || !svm.support_vectors || !svm.decision_functions?.[0]) {
    throw new StageError(`${modelFile}: expected an OpenCV EPS_SVR model with an RBF kernel (opencv_ml_svm: svmType EPS_SVR, kernel RBF), as brisque_model_live.yml is`);
  }
  if (svm.var_count !== 36) throw new StageError(`${modelFile}: the model takes ${svm.var_count} features; BRISQUE has 36`);
  const decision = svm.decision_functions[0];
  const range = readOpenCvYaml(rangeFile).range as { rows?: number; cols?: number; data?: number[] } | undefined;
  if (!range?.data || range.rows !== 2 || range.cols !== 36) throw new StageError(`${rangeFile}: expected range: a 2 x 36 !!opencv-matrix (min row, max row), as brisque_range_live.yml is`);
  const supportVectors = decision.index ? decision.index.map((i) => svm.support_vectors![i]) : svm.support_vectors;
  return { gamma: svm.kernel.gamma ?? 1, supportVectors, alpha: decision.alpha, rho: decision.rho, range: { min: range.data.slice(0, 36), max: range.data.slice(36) } };
}

/** The score: features scaled to [-1, 1] by the range, the SVR's sum of alpha x RBF kernel minus rho, clamped to [0, 100]. */
export function brisqueScore(features: readonly number[], model: BrisqueModel): number {
  const x = features.map((v, i) => -1 + (2 * (v - model.range.min[i])) / (model.range.max[i] - model.range.min[i]));
  let sum = -model.rho;
  model.supportVectors.forEach((sv, k) => {
    const d = sv.reduce((a, s, i) => a + (s - x[i]) ** 2, 0);
    sum += model.alpha[k] * Math.exp(-model.gamma * d);
  });
  return Math.min(100, Math.max(0, sum));
}
