import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
// The custom layers of the torchvision architectures (hard activations, layer scale) must be registered before a model that uses them loads.
import '../train/archs/torch-layers.js';
import { predictLinear, predictLogistic, predictOneVsRest } from '../baseline/logistic.js';
import { StageError } from '../runtime/stage.js';

export interface Normalisation {
  mean: readonly number[];
  std: readonly number[];
}

/** The layer graph as tfjs (and Keras) write it into model.json. */
export interface Topology {
  class_name: string;
  config: { name: string; layers: TopologyLayer[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
  [key: string]: unknown;
}
export interface TopologyLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

/** What every explanation asks of a fold's model: its outputs for images in [0, 1] at its own input edge. */
interface FoldModelBase {
  /** The input edge in pixels. */
  size: number;
  /** NHWC images in [0, 1] -> one row per image: probabilities (binary: P(positive)) or the regression prediction. */
  predict(images: Float32Array, n: number): Promise<number[][]>;
  dispose(): void;
}

/** A tfjs LayersModel (`train`'s model.json + weights.bin): Grad-CAM and occlusion. */
export interface LayersFoldModel extends FoldModelBase {
  kind: 'layers';
  model: tf.LayersModel;
  topology: Topology;
  norm: Normalisation;
}

/** The baseline probe's linear model (model.json with `kind`): occlusion only. */
export interface LinearFoldModel extends FoldModelBase {
  kind: 'linear';
  description: string;
}

export type FoldModel = LayersFoldModel | LinearFoldModel;

interface LayersFile {
  modelTopology: Topology | { model_config: Topology };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

interface LinearFile {
  kind: 'logistic_regression' | 'one_vs_rest_logistic_regression' | 'ridge_regression';
  pixels: number;
  mean: number[];
  scale: number[];
  coef: number[] | number[][];
  intercept: number | number[];
}

const FORMATS = "a tfjs LayersModel (model.json with modelTopology and weightsManifest, as `train` writes it) or the baseline probe's model.json (kind: logistic_regression, one_vs_rest_logistic_regression or ridge_regression)";

/** The model a fold's run folder holds, in either documented format (docs/formats.md). */
export async function openFoldModel(runDir: string, norm: Normalisation): Promise<FoldModel> {
  const file = path.join(runDir, 'model.json');
  if (!existsSync(file)) throw new StageError(`${file}: no model.json in the run folder; explain reads ${FORMATS}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StageError(`${file}: not JSON (${(error as Error).message}); explain reads ${FORMATS}`);
  }
  const record = parsed as Partial<LayersFile & LinearFile>;
  if (record.modelTopology && record.weightsManifest) return layersModel(runDir, record as LayersFile, norm);
  if (record.kind && Array.isArray(record.coef) && typeof record.pixels === 'number') return linearModel(record as LinearFile);
  throw new StageError(`${file}: neither format explain reads: ${FORMATS}`);
}

async function layersModel(runDir: string, file: LayersFile, norm: Normalisation): Promise<LayersFoldModel> {
  const wrapped = file.modelTopology as { model_config?: Topology };
  const topology = wrapped.model_config ?? (file.modelTopology as Topology);
  const weightData = Buffer.concat(file.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(runDir, p)))));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'], weightSpecs: file.weightsManifest.flatMap((g) => g.weights), weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) }),
  );
  const size = model.inputs[0]!.shape[1]!;
  return {
    kind: 'layers',
    model,
    topology,
    norm,
    size,
    async predict(images, n) {
      const units = model.outputs[0]!.shape[1]!;
      const y = tf.tidy(() => model.predict(tf.tensor4d(images, [n, size, size, 3]).sub(norm.mean as number[]).div(norm.std as number[])) as tf.Tensor);
      const values = (await y.data()) as Float32Array;
      y.dispose();
      return Array.from({ length: n }, (_, i) => Array.from(values.subarray(i * units, (i + 1) * units)));
    },
    dispose: () => model.dispose(),
  };
}

function linearModel(file: LinearFile): LinearFoldModel {
  const size = file.pixels;
  const rows = (images: Float32Array, n: number) => Array.from({ length: n }, (_, i) => Float64Array.from(images.subarray(i * size * size * 3, (i + 1) * size * size * 3), (v, j) => (v - file.mean[j]!) / file.scale[j]!));
  const predict =
    file.kind === 'logistic_regression'
      ? (z: Float64Array[]) => predictLogistic({ coef: file.coef as number[], intercept: file.intercept as number }, z).map((p) => [p])
      : file.kind === 'ridge_regression'
        ? (z: Float64Array[]) => predictLinear({ coef: file.coef as number[], intercept: file.intercept as number }, z).map((p) => [p])
        : (z: Float64Array[]) => predictOneVsRest((file.coef as number[][]).map((coef, k) => ({ coef, intercept: (file.intercept as number[])[k]!, iterations: 0 })), z);
  return { kind: 'linear', size, description: `${file.kind} on ${size}x${size}x3 standardised pixels`, predict: async (images, n) => predict(rows(images, n)), dispose: () => undefined };
}
