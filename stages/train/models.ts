import * as tf from '@tensorflow/tfjs';

export interface ModelSpec {
  /** simple_cnn | resnet | mobilenet | simple_cnn_dense (the torchvision archs are built by archs/) */
  arch: 'simple_cnn' | 'resnet' | 'mobilenet' | 'simple_cnn_dense';
  /** simple_cnn_dense: dropout before the last layer. */
  dropout?: number;
  /** Channels of the first stage; later stages double. */
  width: number;
  /** Residual blocks per stage (resnet) or separable blocks per stage (mobilenet). */
  depth: number;
}

/** Initialisers draw from their own seeds (tfjs has no global seed): one per layer, in build order. */
let nextSeed = 0;
const he = () => tf.initializers.heNormal({ seed: nextSeed++ });

/** Conv -> BN -> ReLU, the unit every architecture below is built from. */
function convBnRelu(x: tf.SymbolicTensor, filters: number, stride: number, name: string): tf.SymbolicTensor {
  let y = tf.layers.conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', useBias: false, kernelInitializer: he(), name: `${name}_conv` }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
  return tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as tf.SymbolicTensor;
}

/** The last layer: one sigmoid (binary), K softmax (multi-class) or one linear unit (regression). */
export interface OutputSpec {
  units: number;
  activation: 'sigmoid' | 'softmax' | 'linear';
  /** train.dropout: a dropout layer before the output (none at 0, so nets without it keep their seeds). */
  dropout?: number;
}

let outputSpec: OutputSpec = { units: 1, activation: 'sigmoid' };

function head(x: tf.SymbolicTensor): tf.SymbolicTensor {
  return output(tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor);
}

function output(x: tf.SymbolicTensor): tf.SymbolicTensor {
  const { dropout, ...spec } = outputSpec;
  const dropped = dropout ? (tf.layers.dropout({ rate: dropout, seed: nextSeed++, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor) : x;
  return tf.layers.dense({ ...spec, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed++ }), name: 'prob' }).apply(dropped) as tf.SymbolicTensor;
}

/**
 * Three conv stages with strided downsampling and no batch norm: the plain baseline (and,
 * measured on wasm, twice as fast to train as the same net with batch norm).
 */
function simpleCnn(input: tf.SymbolicTensor, spec: ModelSpec): tf.SymbolicTensor {
  let x = input;
  for (let stage = 0; stage < 3; stage++) {
    x = tf.layers.conv2d({ filters: spec.width * 2 ** stage, kernelSize: 3, strides: stage === 0 ? 1 : 2, padding: 'same', activation: 'relu', kernelInitializer: he(), name: `s${stage}_conv` }).apply(x) as tf.SymbolicTensor;
  }
  return head(x);
}

/** A small ResNet: a stem, then stages of basic residual blocks, each stage halving resolution. */
function resnet(input: tf.SymbolicTensor, spec: ModelSpec): tf.SymbolicTensor {
  let x = convBnRelu(input, spec.width, 1, 'stem');
  for (let stage = 0; stage < 3; stage++) {
    const filters = spec.width * 2 ** stage;
    for (let block = 0; block < spec.depth; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const name = `r${stage}_${block}`;
      let y = convBnRelu(x, filters, stride, `${name}_a`);
      y = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: he(), name: `${name}_b_conv` }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization({ name: `${name}_b_bn` }).apply(y) as tf.SymbolicTensor;
      let shortcut = x;
      if (stride !== 1 || (x.shape[3] ?? filters) !== filters) {
        shortcut = tf.layers.conv2d({ filters, kernelSize: 1, strides: stride, useBias: false, kernelInitializer: he(), name: `${name}_proj` }).apply(x) as tf.SymbolicTensor;
      }
      x = tf.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    }
  }
  return head(x);
}

/** MobileNet-style: depthwise-separable blocks (depthwise 3x3 + pointwise 1x1). */
function mobilenet(input: tf.SymbolicTensor, spec: ModelSpec): tf.SymbolicTensor {
  let x = convBnRelu(input, spec.width, 1, 'stem');
  for (let stage = 0; stage < 3; stage++) {
    for (let block = 0; block < spec.depth; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      const name = `m${stage}_${block}`;
      let y = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: he(), name: `${name}_dw` }).apply(x) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization({ name: `${name}_dw_bn` }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.activation({ activation: 'relu', name: `${name}_dw_relu` }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.conv2d({ filters: spec.width * 2 ** stage, kernelSize: 1, useBias: false, kernelInitializer: he(), name: `${name}_pw` }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization({ name: `${name}_pw_bn` }).apply(y) as tf.SymbolicTensor;
      x = tf.layers.activation({ activation: 'relu', name: `${name}_pw_relu` }).apply(y) as tf.SymbolicTensor;
    }
  }
  return head(x);
}

/**
 * The studies' SimpleCNN: three conv (3x3, ReLU) + 2x2 max-pool blocks of 2w, 4w, 8w channels,
 * flattened (it keeps where things are, which global pooling throws away), a dense layer of 8w,
 * dropout, the output. About 400k parameters at width 16 and 32 px.
 */
function simpleCnnDense(input: tf.SymbolicTensor, spec: ModelSpec): tf.SymbolicTensor {
  let x = input;
  for (let stage = 0; stage < 3; stage++) {
    x = tf.layers.conv2d({ filters: spec.width * 2 ** (stage + 1), kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: he(), name: `b${stage}_conv` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `b${stage}_pool` }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: spec.width * 8, activation: 'relu', kernelInitializer: he(), name: 'fc' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: spec.dropout ?? 0.5, seed: nextSeed++, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  return output(x);
}

export function buildModel(spec: ModelSpec, size: number, seed: number, out: OutputSpec = { units: 1, activation: 'sigmoid' }): tf.LayersModel {
  nextSeed = seed * 1000;
  outputSpec = out;
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  const output = spec.arch === 'resnet' ? resnet(input, spec) : spec.arch === 'mobilenet' ? mobilenet(input, spec) : spec.arch === 'simple_cnn_dense' ? simpleCnnDense(input, spec) : simpleCnn(input, spec);
  return tf.model({ inputs: input, outputs: output, name: `${spec.arch}_w${spec.width}_d${spec.depth}` });
}
