import * as tf from '@tensorflow/tfjs';
import { StageError } from '../runtime/stage.js';
import type { LayersFoldModel, Topology, TopologyLayer } from './saved-model.js';

/** Which output a heatmap explains: `unit` of the logits, times `sign` (-1: the evidence against a binary positive). */
export interface CamTarget {
  unit: number;
  sign: 1 | -1;
}

/** Layers whose output is a feature map (rank 4), in the model's order, and the default: the one the final pooling reads. */
export function featureMapLayers(model: tf.LayersModel): { names: string[]; last: string } {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && (l.outputShape as (number | null)[]).length === 4 && !Array.isArray((l.outputShape as unknown[])[0]));
  const pools = model.layers.filter((l) => {
    const input = l.inboundNodes[0]?.inboundLayers[0];
    return input && (input.outputShape as unknown[]).length === 4 && (l.outputShape as unknown[]).length === 2;
  });
  const final = pools.at(-1)?.inboundNodes[0]?.inboundLayers[0];
  const last = final && layers.includes(final) ? final.name : layers.at(-1)?.name;
  if (!last) throw new StageError(`${model.name} has no convolutional feature map for Grad-CAM: use with: { method: occlusion }`);
  return { names: layers.map((l) => l.name), last };
}

/**
 * Grad-CAM (Selvaraju et al. 2017), as pytorch-grad-cam computes it: the gradient of the target
 * logit with respect to a layer's feature map, averaged over its positions, weights the map's
 * channels; the heatmap is ReLU of their sum. tfjs cannot take a gradient with respect to an
 * inner tensor, so the saved graph is rewired: the layer's output plus a zero input `cam_delta`
 * feeds everything the layer fed, and the gradient with respect to `cam_delta` is the one wanted.
 * The last layer's activation is dropped, so the target is a logit, not a probability.
 */
export class GradCam {
  readonly layer: string;
  readonly mapShape: [number, number, number];
  private readonly rewired: tf.LayersModel;

  private constructor(private readonly saved: LayersFoldModel, layer: string, rewired: tf.LayersModel, mapShape: [number, number, number]) {
    this.layer = layer;
    this.rewired = rewired;
    this.mapShape = mapShape;
  }

  static async of(saved: LayersFoldModel, layer: string | undefined, where: string): Promise<GradCam> {
    const { names, last } = featureMapLayers(saved.model);
    const chosen = layer ?? last;
    if (!names.includes(chosen)) {
      const shown = names.length > 12 ? [...names.slice(0, 4), '...', ...names.slice(-8)] : names;
      throw new StageError(`${where}: with: { layer: ${chosen} } is not a feature-map layer of ${saved.model.name}; valid: ${shown.join(', ')} (default: ${last})`);
    }
    const shape = saved.model.getLayer(chosen).outputShape as number[];
    const mapShape: [number, number, number] = [shape[1]!, shape[2]!, shape[3]!];
    const rewired = await tf.models.modelFromJSON({ modelTopology: rewire(saved.topology, chosen, mapShape) as unknown as tf.io.ModelJSON['modelTopology'] });
    for (const target of rewired.layers) {
      if (target.weights.length === 0) continue;
      target.setWeights(saved.model.getLayer(target.name).getWeights());
    }
    return new GradCam(saved, chosen, rewired, mapShape);
  }

  /** One heatmap per image at the layer's resolution (h x w, row-major), and the logits. */
  async run(images: Float32Array, n: number, targets: readonly CamTarget[]): Promise<{ cams: Float32Array[]; logits: number[][] }> {
    const { size, norm } = this.saved;
    const [h, w, c] = this.mapShape;
    const x = tf.tidy(() => tf.tensor4d(images, [n, size, size, 3]).sub(norm.mean as number[]).div(norm.std as number[]));
    const units = this.rewired.outputs[1]!.shape[1]!;
    const pick = tf.tensor2d(targets.flatMap((t) => Array.from({ length: units }, (_, u) => (u === t.unit ? t.sign : 0))), [n, units]);
    const delta = tf.zeros([n, h, w, c]);
    const gradient = tf.grad((d: tf.Tensor) => {
      const [, y] = this.rewired.apply([x, d], { training: false }) as tf.Tensor[];
      return y!.mul(pick).sum();
    })(delta);
    const [activations, logits] = this.rewired.apply([x, delta], { training: false }) as tf.Tensor[];
    const cam = tf.tidy(() => activations!.mul(gradient.mean([1, 2], true)).sum(3).relu());
    const values = (await cam.data()) as Float32Array;
    const out = (await logits!.array()) as number[][];
    tf.dispose([x, pick, delta, gradient, activations!, logits!, cam]);
    return { cams: Array.from({ length: n }, (_, i) => values.slice(i * h * w, (i + 1) * h * w)), logits: out };
  }

  dispose(): void {
    this.rewired.dispose();
  }
}

/** The saved graph with `cam_delta` added to `layer`'s output, that sum as a second output, and a linear last layer. */
function rewire(topology: Topology, layer: string, mapShape: [number, number, number]): Topology {
  const out = structuredClone(topology);
  const layers = out.config.layers;
  const at = layers.findIndex((l) => l.name === layer);
  const delta: TopologyLayer = { class_name: 'InputLayer', name: 'cam_delta', config: { name: 'cam_delta', batch_input_shape: [null, ...mapShape], dtype: 'float32', sparse: false }, inbound_nodes: [] };
  const sum: TopologyLayer = { class_name: 'Add', name: 'cam_add', config: { name: 'cam_add', trainable: false }, inbound_nodes: [[[layer, 0, 0, {}], ['cam_delta', 0, 0, {}]]] };
  for (const l of layers) for (const node of l.inbound_nodes) for (const edge of node) if (edge[0] === layer) edge[0] = 'cam_add';
  layers.splice(at + 1, 0, sum);
  layers.unshift(delta);
  const [outputName] = out.config.output_layers[0]!;
  const last = layers.find((l) => l.name === outputName)!;
  if ('activation' in last.config) last.config.activation = 'linear';
  out.config.input_layers = [...out.config.input_layers, ['cam_delta', 0, 0]];
  out.config.output_layers = [['cam_add', 0, 0], out.config.output_layers[0]!];
  return out;
}
