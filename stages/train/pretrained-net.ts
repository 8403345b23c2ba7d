import * as tf from '@tensorflow/tfjs';
import { sha256Text } from '../../src/hash/sha256.js';
import type { Backbone } from './backbone.js';
import { Seeds } from './archs/torch-layers.js';
import { StageError } from '../runtime/stage.js';

/**
 * A backbone (a torchvision architecture or an npm one) with the task's head in place of its
 * classifier: its pretrained weights, and what trains (`train.freeze`, `lr_backbone`, `bn`).
 * The full model (image -> output) is what is saved; a frozen backbone's features are computed
 * once and cached (feature-cache.ts), so only the head trains.
 */

export type Freeze = 'none' | 'backbone' | { until: string };

export interface PretrainedNet {
  /** Image -> output: what is evaluated and saved. */
  model: tf.LayersModel;
  /** Image -> features (what `freeze: backbone` caches). */
  backbone: tf.LayersModel;
  /** Features -> output, sharing its weights with `model`'s head. */
  head: tf.LayersModel;
  /** Names the backbone and its weights for the feature cache (hashes a weights file: only `freeze: backbone` asks). */
  digest(): string;
  /** Weights of `model` that train, with their learning-rate group. */
  groups: { backbone: tf.LayerVariable[]; head: tf.LayerVariable[] };
  /** A line for the log: what was loaded. */
  loaded: string;
}

export interface NetOptions {
  size: number;
  seed: number;
  units: number;
  activation: 'sigmoid' | 'softmax' | 'linear';
  weights?: string;
  weightsStrict: boolean;
  freeze: Freeze;
  bn: 'train' | 'frozen';
  /** train.dropout before the head (none when unset or 0). */
  dropout?: number;
}

export async function buildPretrainedNet(arch: Backbone, options: NetOptions): Promise<PretrainedNet> {
  const seeds = new Seeds(options.seed * 1000);
  const { input, features } = await arch.build(options.size, seeds);
  const dropout = (options.dropout ?? 0) > 0 ? tf.layers.dropout({ rate: options.dropout!, seed: seeds.take(), name: 'head_dropout' }) : undefined;
  const dense = tf.layers.dense({ units: options.units, activation: options.activation, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }), name: 'prob' });
  const prob = { apply: (x: tf.SymbolicTensor) => dense.apply(dropout ? dropout.apply(x) : x) };
  const model = tf.model({ inputs: input, outputs: prob.apply(features) as tf.SymbolicTensor, name: arch.name });
  const backbone = tf.model({ inputs: input, outputs: features, name: `${arch.name}_backbone` });
  const featureInput = tf.input({ shape: [features.shape[1]!], name: 'features' });
  const head = tf.model({ inputs: featureInput, outputs: prob.apply(featureInput) as tf.SymbolicTensor, name: 'head' });
  const loaded = options.weights ? arch.load(backbone, options.weights, options.weightsStrict) : `${arch.name}: random initialisation (no model.weights)`;

  const frozenUpTo = frozenLayers(backbone, options.freeze, arch.name);
  backbone.layers.forEach((layer, i) => {
    if (i <= frozenUpTo) layer.trainable = false;
    if (options.bn === 'frozen' && layer.getClassName() === 'BatchNormalization') freezeStatistics(layer);
  });
  const headVariables = new Set(dense.trainableWeights);
  const trainable = model.trainableWeights;
  return {
    model,
    backbone,
    head,
    digest: () => sha256Text(JSON.stringify({ arch: arch.name, weights: options.weights ? arch.weightsDigest(options.weights) : 'random', size: options.size })),
    groups: { backbone: trainable.filter((w) => !headVariables.has(w)), head: trainable.filter((w) => headVariables.has(w)) },
    loaded,
  };
}

/** The index of the last backbone layer that does not train (-1: all train). */
function frozenLayers(backbone: tf.LayersModel, freeze: Freeze, arch: string): number {
  if (freeze === 'none') return -1;
  if (freeze === 'backbone') return backbone.layers.length - 1;
  const until = freeze.until;
  let last = -1;
  backbone.layers.forEach((layer, i) => {
    // torchvision's module paths (layer3.0.conv1), Keras's names (block_10_expand) and face-api's (conv64_1.conv1).
    if (layer.name === until || ['.', '_', '/'].some((sep) => layer.name.startsWith(until + sep))) last = i;
  });
  if (last < 0) {
    const modules = [...new Set(backbone.layers.slice(1).map((l) => l.name.split('.').slice(0, 2).join('.')))];
    throw new StageError(`train.freeze.until: ${arch} has no module ${until} (modules: ${modules.slice(0, 40).join(', ')}${modules.length > 40 ? ', ...' : ''})`);
  }
  return last;
}

/** bn: frozen: the layer normalises with its running statistics and never updates them, also while the rest trains. */
function freezeStatistics(layer: tf.layers.Layer): void {
  const call = layer.call.bind(layer);
  layer.trainable = false;
  layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
}

/** One optimiser per learning-rate group (tfjs has one rate per optimiser): the head at lr, the backbone at lr_backbone. */
export class GroupedStep {
  private readonly head = tf.train.adam(1);
  private readonly backbone = tf.train.adam(1);

  constructor(
    private readonly model: tf.LayersModel,
    private readonly groups: PretrainedNet['groups'],
    private readonly loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor,
  ) {}

  run(x: tf.Tensor, y: tf.Tensor, lr: number, lrBackbone: number): void {
    (this.head as unknown as { learningRate: number }).learningRate = lr;
    (this.backbone as unknown as { learningRate: number }).learningRate = lrBackbone;
    const variables = [...this.groups.backbone, ...this.groups.head].map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.mean(this.loss(y, this.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
    const pick = (group: tf.LayerVariable[]): { name: string; tensor: tf.Tensor }[] => group.map((w) => ({ name: (w.read() as tf.Variable).name, tensor: grads[(w.read() as tf.Variable).name]! }))
    this.head.applyGradients(pick(this.groups.head));
    if (this.groups.backbone.length) this.backbone.applyGradients(pick(this.groups.backbone));
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** The head's loss as a function (compile takes Keras's names). */
export function lossFunction(loss: string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor)): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  if (typeof loss !== 'string') return loss;
  if (loss === 'binaryCrossentropy') return (t, p) => tf.metrics.binaryCrossentropy(t, p);
  if (loss === 'categoricalCrossentropy') return (t, p) => tf.metrics.categoricalCrossentropy(t, p);
  if (loss === 'meanSquaredError') return (t, p) => tf.losses.meanSquaredError(t, p);
  throw new Error(`no loss function for ${loss}`);
}
