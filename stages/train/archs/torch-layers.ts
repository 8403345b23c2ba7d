import * as tf from '@tensorflow/tfjs';

/**
 * Building blocks that compute what torch.nn's modules compute, named by their module path in
 * torchvision (`layer1.0.conv1`), so a state_dict key is `<layer name>.<weight>` and loading is
 * one lookup per weight (torch-weights.ts). PyTorch pads symmetrically where tfjs's `same`
 * pads more on the bottom/right for a strided convolution, so padding is an explicit layer.
 */

export type Tensor = tf.SymbolicTensor;

/** Initialisers draw from their own seeds (tfjs has no global seed), one per layer in build order. */
export class Seeds {
  constructor(private next: number) {}
  take(): number {
    return this.next++;
  }
}

export interface ConvOptions {
  filters: number;
  kernel: number;
  stride?: number;
  padding?: number;
  /** `groups == channels`: a depthwise convolution (the only grouping torchvision's nets use). */
  depthwise?: boolean;
  bias?: boolean;
}

function padded(x: Tensor, padding: number, stride: number, kernel: number, name: string): { x: Tensor; mode: 'same' | 'valid' } {
  if (padding === 0) return { x, mode: 'valid' };
  if (stride === 1 && kernel === 2 * padding + 1) return { x, mode: 'same' };
  return { x: tf.layers.zeroPadding2d({ padding, name: `${name}.pad` }).apply(x) as Tensor, mode: 'valid' };
}

export function conv(x: Tensor, name: string, options: ConvOptions, seeds: Seeds): Tensor {
  const { filters, kernel, stride = 1, padding = 0, depthwise = false, bias = false } = options;
  const input = padded(x, padding, stride, kernel, name);
  const initializer = tf.initializers.heNormal({ seed: seeds.take() });
  if (depthwise) {
    return tf.layers
      .depthwiseConv2d({ kernelSize: kernel, strides: stride, padding: input.mode, useBias: bias, depthwiseInitializer: initializer, name })
      .apply(input.x) as Tensor;
  }
  return tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: input.mode, useBias: bias, kernelInitializer: initializer, name }).apply(input.x) as Tensor;
}

/** torch.nn.BatchNorm2d (eps 1e-5, momentum 0.1 unless the architecture says otherwise; tfjs's momentum is 1 - torch's). */
export function batchNorm(x: Tensor, name: string, eps = 1e-5, momentum = 0.1): Tensor {
  return tf.layers.batchNormalization({ epsilon: eps, momentum: 1 - momentum, name }).apply(x) as Tensor;
}

export function activation(x: Tensor, kind: 'relu' | 'relu6' | 'swish' | 'gelu' | 'hardswish' | 'hardsigmoid' | 'sigmoid', name: string): Tensor {
  if (kind === 'hardswish' || kind === 'hardsigmoid') return new HardActivation({ kind, name }).apply(x) as Tensor;
  return tf.layers.activation({ activation: kind, name }).apply(x) as Tensor;
}

export function linear(x: Tensor, name: string, units: number, seeds: Seeds, bias = true): Tensor {
  return tf.layers.dense({ units, useBias: bias, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }), name }).apply(x) as Tensor;
}

export function add(a: Tensor, b: Tensor, name: string): Tensor {
  return tf.layers.add({ name }).apply([a, b]) as Tensor;
}

/** PyTorch's hardswish x * relu6(x + 3) / 6 and hardsigmoid relu6(x + 3) / 6 (tfjs's hardSigmoid is another curve). */
export class HardActivation extends tf.layers.Layer {
  static className = 'TorchHardActivation';
  private readonly kind: 'hardswish' | 'hardsigmoid';

  constructor(config: { kind: 'hardswish' | 'hardsigmoid'; name?: string }) {
    super(config);
    this.kind = config.kind;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gate = tf.div(tf.relu6(tf.add(x, 3)), 6);
      return this.kind === 'hardswish' ? tf.mul(x, gate) : gate;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kind: this.kind };
  }
}
tf.serialization.registerClass(HardActivation);

/** ConvNeXt's layer scale: a learnt per-channel factor (torch keeps it as `<block>.layer_scale`, shape [C, 1, 1]). */
export class LayerScale extends tf.layers.Layer {
  static className = 'TorchLayerScale';
  private scale: tf.LayerVariable | undefined;

  constructor(config: { name?: string; initial?: number }) {
    super(config);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.scale = this.addWeight('layer_scale', [shape[shape.length - 1]!], 'float32', tf.initializers.constant({ value: 1e-6 }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.scale!.read()));
  }
}
tf.serialization.registerClass(LayerScale);

/** Squeeze-and-excitation (torchvision.ops.SqueezeExcitation): pool, two 1x1 convolutions with biases, a gate, a product. */
export function squeezeExcitation(x: Tensor, name: string, squeeze: number, gate: 'sigmoid' | 'hardsigmoid', inner: 'relu' | 'swish', seeds: Seeds): Tensor {
  const channels = x.shape[3]!;
  let s = tf.layers.globalAveragePooling2d({ name: `${name}.avgpool` }).apply(x) as Tensor;
  s = tf.layers.reshape({ targetShape: [1, 1, channels], name: `${name}.reshape` }).apply(s) as Tensor;
  s = conv(s, `${name}.fc1`, { filters: squeeze, kernel: 1, bias: true }, seeds);
  s = activation(s, inner, `${name}.act1`);
  s = conv(s, `${name}.fc2`, { filters: channels, kernel: 1, bias: true }, seeds);
  s = activation(s, gate, `${name}.gate`);
  return tf.layers.multiply({ name: `${name}.scale` }).apply([x, s]) as Tensor;
}

export function globalPool(x: Tensor, name = 'avgpool'): Tensor {
  return tf.layers.globalAveragePooling2d({ name }).apply(x) as Tensor;
}

export type ActivationKind = Parameters<typeof activation>[1];

/** torchvision.ops.Conv2dNormActivation: `<name>.0` the convolution (padding (k-1)/2), `<name>.1` its batch norm, then the activation. */
export function convNormActivation(
  x: Tensor,
  name: string,
  options: Omit<ConvOptions, 'padding'> & { eps?: number; momentum?: number },
  act: ActivationKind | undefined,
  seeds: Seeds,
): Tensor {
  let y = conv(x, `${name}.0`, { ...options, padding: (options.kernel - 1) >> 1 }, seeds);
  y = batchNorm(y, `${name}.1`, options.eps, options.momentum);
  return act ? activation(y, act, `${name}.act`) : y;
}

/** torchvision's _make_divisible: channels rounded to a multiple of 8, never below 90% of `v`. */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

export function dropout(x: Tensor, rate: number, name: string, seeds: Seeds): Tensor {
  return tf.layers.dropout({ rate, seed: seeds.take(), name }).apply(x) as Tensor;
}
