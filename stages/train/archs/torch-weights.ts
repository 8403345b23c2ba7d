import * as tf from '@tensorflow/tfjs';
import type { StateDict, WeightTensor } from '../weights/state-dict.js';

/**
 * Puts a PyTorch state_dict onto a model built from torch-layers.ts: a layer named after its
 * torchvision module path takes `<path>.weight`, `.bias`, `.running_mean`, ... with PyTorch's
 * layouts transposed into tfjs's (OIHW -> HWIO, [C,1,H,W] -> HWC1, [out,in] -> [in,out]).
 */

export interface LoadReport {
  loaded: number;
  /** Weights of the model the file has no key for. */
  missing: string[];
  /** Keys of the file the model has no weight for (torchvision's classifier excepted). */
  unexpected: string[];
  /** Key: the file's shape vs the model's, in PyTorch's layout. */
  mismatched: { key: string; file: number[]; model: number[] }[];
}

export class WeightsMismatchError extends Error {}

const TORCH_NAME: Record<string, string> = {
  kernel: 'weight',
  depthwise_kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
  layer_scale: 'layer_scale',
};

/** tfjs layout -> the permutation that turns the PyTorch tensor into it. */
function permutation(className: string, shortName: string, rank: number): number[] | undefined {
  if (rank === 4 && shortName === 'kernel') return [2, 3, 1, 0];
  if (rank === 4 && shortName === 'depthwise_kernel') return [2, 3, 0, 1];
  if (rank === 2 && shortName === 'kernel' && className === 'Dense') return [1, 0];
  return undefined;
}

const invert = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));

/** One weight of the model under its state_dict key; `toTorch` permutes a tfjs-layout tensor into PyTorch's. */
export interface TorchKeyedWeight {
  key: string;
  variable: tf.LayerVariable;
  /** The tfjs layout from PyTorch's, if they differ. */
  permutation: number[] | undefined;
  /** The shape PyTorch gives it. */
  torchShape: number[];
}

export function torchKeyedWeights(model: tf.LayersModel): TorchKeyedWeight[] {
  return model.layers.flatMap((layer) =>
    layer.weights.map((variable) => {
      const short = variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
      const perm = permutation(layer.getClassName(), short, variable.shape.length);
      const torchShape = perm ? invert(perm).map((axis) => variable.shape[axis]!) : short === 'layer_scale' ? [variable.shape[0]!, 1, 1] : (variable.shape as number[]);
      return { key: `${layer.name}.${TORCH_NAME[short] ?? short}`, variable, permutation: perm, torchShape };
    }),
  );
}

export interface LoadOptions {
  /** false: load what matches and report the rest (model.weights_strict: false). */
  strict: boolean;
  /** Key prefixes the model does not build (torchvision's classifier, replaced by the task's head). */
  ignorePrefixes?: string[];
  /** The weights file as the user named it, for errors. */
  shown: string;
}

export function loadStateDict(model: tf.LayersModel, state: StateDict, options: LoadOptions): LoadReport {
  const report: LoadReport = { loaded: 0, missing: [], unexpected: [], mismatched: [] };
  const used = new Set<string>();
  const byLayer = new Map<tf.LayerVariable, TorchKeyedWeight>(torchKeyedWeights(model).map((w) => [w.variable, w]));
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values: tf.Tensor[] = [];
    let complete = true;
    for (const weight of layer.weights) {
      const { key, permutation: perm, torchShape } = byLayer.get(weight)!;
      const tensor = state.get(key);
      if (!tensor) {
        report.missing.push(key);
        complete = false;
        continue;
      }
      used.add(key);
      const converted = convert(tensor, weight.shape as number[], perm);
      if (!converted) {
        report.mismatched.push({ key, file: tensor.shape, model: torchShape });
        complete = false;
        continue;
      }
      values.push(converted);
    }
    if (complete) {
      layer.setWeights(values);
      report.loaded += values.length;
    }
    values.forEach((t) => t.dispose());
    // Batch norm's step counter has no tfjs counterpart: expected, and dropped.
    used.add(`${layer.name}.num_batches_tracked`);
  }
  const ignored = options.ignorePrefixes ?? [];
  report.unexpected = [...state.keys()].filter((key) => !used.has(key) && !ignored.some((prefix) => key.startsWith(prefix)));
  if (options.strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
    throw new WeightsMismatchError(describeMismatch(report, options.shown));
  }
  return report;
}

function convert(tensor: WeightTensor, target: number[], perm: number[] | undefined): tf.Tensor | undefined {
  const count = target.reduce((a, b) => a * b, 1);
  if (tensor.values.length !== count) return undefined;
  if (!perm) {
    // Same count: a [C,1,1] layer scale onto [C], or equal shapes; anything else is a mismatch.
    const squeezed = tensor.shape.filter((d) => d !== 1);
    const wanted = target.filter((d) => d !== 1);
    if (squeezed.join() !== wanted.join()) return undefined;
    return tf.tensor(tensor.values, target);
  }
  const source = invert(perm).map((axis) => target[axis]!);
  if (source.join() !== tensor.shape.join()) return undefined;
  return tf.tidy(() => tf.transpose(tf.tensor(tensor.values, tensor.shape), perm));
}

export function describeMismatch(report: LoadReport, shown: string): string {
  const lines: string[] = [];
  const some = (list: string[]) => list.slice(0, 8).join(', ') + (list.length > 8 ? `, ... (${list.length} in all)` : '');
  if (report.mismatched.length) lines.push(`shapes differ: ${report.mismatched.slice(0, 8).map((m) => `${m.key} is [${m.file.join(', ')}] in the file, [${m.model.join(', ')}] in the model`).join('; ')}`);
  if (report.missing.length) lines.push(`missing from the file: ${some(report.missing)}`);
  if (report.unexpected.length) lines.push(`in the file but not in the model: ${some(report.unexpected)}`);
  return `${shown} does not fit the model: ${lines.join('; ')} (a file for another architecture? model.weights_strict: false loads what matches)`;
}
