import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertClose, type Grads } from '../support/close.js';
import { initBackend } from '../../stages/train/backend.js';
import { buildModel } from '../../stages/train/models.js';
import { stopWebGpu } from '../../stages/train/webgpu/backend.js';

type Tensors = Record<string, tf.Tensor>;
type Shape4 = [number, number, number, number];

/**
 * Our WebGPU kernels against the cpu backend, on whatever Vulkan device is here: Mesa's
 * lavapipe (a CPU implementation) on a machine without a GPU, as in CI.
 */
let unavailable: string | false = false;
try {
  await initBackend('webgpu');
} catch (error) {
  unavailable = (error as Error).message;
}
const skip = unavailable && process.env.PIPELINE_REQUIRE_SERVICES !== '1' ? `no WebGPU adapter: ${unavailable}` : false;

/** Evaluates `f` on a backend. WebGPU reads back asynchronously only (dataSync would block its event loop). */
async function on(backend: string, f: () => Tensors): Promise<Grads> {
  await tf.setBackend(backend);
  const tensors = tf.tidy(f);
  const out: Grads = {};
  for (const [key, t] of Object.entries(tensors)) out[key] = (await t.data()) as Float32Array;
  tf.dispose(Object.values(tensors));
  return out;
}


const input = (shape: number[], f: (i: number) => number) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => f(i)), shape);

function convGrads(op: 'conv' | 'depthwise', stride: number, pad: 'same' | 'valid', xShape: Shape4, wShape: Shape4): Tensors {
  const x = input(xShape, (i) => Math.sin(i * 0.37)) as tf.Tensor4D;
  const w = input(wShape, (i) => Math.cos(i * (op === 'conv' ? 0.11 : 0.23))) as tf.Tensor4D;
  const forward = (xx: tf.Tensor4D, ww: tf.Tensor4D) => (op === 'conv' ? tf.conv2d(xx, ww, stride, pad) : tf.depthwiseConv2d(xx, ww, stride, pad));
  // A weighted sum, so every output pixel's gradient differs.
  const loss = (a: tf.Tensor, b: tf.Tensor) => {
    const y = forward(a as tf.Tensor4D, b as tf.Tensor4D);
    return y.mul(input(y.shape, (i) => Math.cos(i * 0.05))).sum();
  };
  const [dx, dw] = tf.grads(loss)([x, w]);
  return { dx: dx!, dw: dw! };
}

/** What a BatchNormalization layer computes in training: batch moments, then the normalisation. */
function batchNormGrads(shape: Shape4): Tensors {
  const channels = shape[3];
  const x = input(shape, (i) => Math.sin(i * 0.37) * 3 + 1);
  const gamma = input([channels], (i) => 0.5 + i * 0.25);
  const beta = input([channels], (i) => i * 0.1 - 0.2);
  const loss = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xx, [0, 1, 2]);
    const y = tf.batchNorm(xx as tf.Tensor4D, mean, variance, b, g, 1e-3);
    return y.mul(input(y.shape, (i) => Math.cos(i * 0.05))).sum();
  };
  const [dx, dg, db] = tf.grads(loss)([x, gamma, beta]);
  return { dx: dx!, dgamma: dg!, dbeta: db! };
}

describe('WebGPU training kernels match the cpu backend', { skip }, () => {
  before(async () => {
    await tf.setBackend('webgpu');
  });
  after(stopWebGpu);

  it('convolution filter and input gradients: strides 1 and 2, same and valid, 1x1 to 5x5, split reductions', async () => {
    const cases: [Shape4, Shape4][] = [
      [[2, 9, 9, 4], [3, 3, 4, 5]],
      [[3, 10, 10, 3], [3, 3, 3, 16]],
      [[2, 8, 13, 8], [5, 5, 8, 12]],
      [[2, 9, 9, 8], [1, 1, 8, 16]],
      // 4 x 32 x 32 output pixels: the filter gradient's reduction is split over workgroups.
      [[4, 32, 32, 8], [3, 3, 8, 40]],
    ];
    for (const [xShape, wShape] of cases)
      for (const stride of [1, 2])
        for (const pad of ['same', 'valid'] as const) {
          const run = () => convGrads('conv', stride, pad, xShape, wShape);
          assertClose(await on('cpu', run), await on('webgpu', run), `conv ${xShape} * ${wShape} stride ${stride} ${pad}`);
        }
  });

  it('depthwise filter and input gradients: multipliers 1 and 2, strides 1 and 2', async () => {
    for (const [xShape, wShape] of [[[2, 9, 9, 6], [3, 3, 6, 1]], [[3, 16, 16, 4], [3, 3, 4, 2]]] as [Shape4, Shape4][])
      for (const stride of [1, 2])
        for (const pad of ['same', 'valid'] as const) {
          const run = () => convGrads('depthwise', stride, pad, xShape, wShape);
          assertClose(await on('cpu', run), await on('webgpu', run), `depthwise ${xShape} * ${wShape} stride ${stride} ${pad}`);
        }
  });

  it('batch-norm gradients (x, scale, offset, through the batch moments)', async () => {
    for (const shape of [[2, 5, 7, 3], [8, 16, 16, 16]] as Shape4[]) {
      const run = () => batchNormGrads(shape);
      assertClose(await on('cpu', run), await on('webgpu', run), `batch norm ${shape}`, 2e-4);
    }
  });

  it('gradients are bit-identical from run to run', async () => {
    const run = () => ({ ...convGrads('conv', 1, 'same', [4, 32, 32, 8], [3, 3, 8, 40]), ...batchNormGrads([8, 16, 16, 16]) });
    const first = await on('webgpu', run);
    const second = await on('webgpu', run);
    for (const key of Object.keys(first)) assert.deepEqual(Buffer.from(second[key]!.buffer), Buffer.from(first[key]!.buffer), key);
  });

  it('ResNet and MobileNet (batch norm, depthwise) train to the same weights as on the cpu', async () => {
    const train = async (backend: string, arch: 'resnet' | 'mobilenet') => {
      await tf.setBackend(backend);
      const model = buildModel({ arch, width: 4, depth: 1 }, 16, 7);
      model.compile({ optimizer: tf.train.sgd(0.05), loss: 'binaryCrossentropy' });
      const x = input([8, 16, 16, 3], (i) => Math.sin(i * 0.013));
      const y = input([8, 1], (i) => i % 2);
      await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
      const weights: Grads = {};
      for (const [i, w] of model.weights.entries()) weights[`weight ${i} ${w.shape}`] = (await w.read().data()) as Float32Array;
      return weights;
    };
    for (const arch of ['resnet', 'mobilenet'] as const) assertClose(await train('cpu', arch), await train('webgpu', arch), `${arch} weights after 4 steps`, 1e-3);
  });
});
