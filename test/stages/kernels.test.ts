import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertClose, type Grads } from '../support/close.js';
import { initBackend } from '../../stages/train/backend.js';


/** Evaluates `f` (gradients or values of one op) on a backend. */
async function on(backend: string, f: () => Grads): Promise<Grads> {
  await tf.setBackend(backend);
  return tf.tidy(f);
}


const input = (shape: [number, number, number, number], f: (i: number) => number) => tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => f(i)), shape);

type Shape4 = [number, number, number, number];

/**
 * Output, input and filter gradients of one convolution. The default shapes hit the kernels'
 * remainders (4 channels, 5 outputs); the others their SIMD tiles: a first layer's 3 channels
 * with 16 outputs, and a 5x5 filter with 12 outputs over a non-square image.
 */
function convGrads(op: 'conv' | 'depthwise', stride: number, pad: 'same' | 'valid', xShape: Shape4 = [2, 9, 9, 4], wShape: Shape4 = op === 'conv' ? [3, 3, 4, 5] : [3, 3, 4, 2]): Grads {
  const x = input(xShape, (i) => Math.sin(i * 0.37));
  const w = input(wShape, (i) => Math.cos(i * (op === 'conv' ? 0.11 : 0.23)));
  const forward = (xx: tf.Tensor4D, ww: tf.Tensor4D) => (op === 'conv' ? tf.conv2d(xx, ww, stride, pad) : tf.depthwiseConv2d(xx, ww, stride, pad));
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => forward(a as tf.Tensor4D, b as tf.Tensor4D).square().sum())([x, w]);
  return { y: forward(x, w).dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
}

/** Rounded inputs, so windows hold ties (and negative maxima): the first maximum must win. */
function maxPoolGrads(size: number, stride: number, pad: 'same' | 'valid'): Grads {
  const x = input([2, 9, 9, 3], (i) => Math.round(Math.sin(i * 0.37) * 2));
  const dx = tf.grad((xx: tf.Tensor) => {
    const y = tf.maxPool(xx as tf.Tensor4D, size, stride, pad);
    return y.mul(tf.range(1, y.size + 1).reshape(y.shape)).sum();
  })(x);
  return { dx: dx.dataSync() as Float32Array };
}

const threads = Number(process.env.KERNEL_TEST_THREADS ?? 2);

describe(`wasm training kernels match the cpu backend (${threads === 1 ? 'single-threaded build' : `threaded build, ${threads} threads`})`, () => {
  before(async () => {
    assert.match((await initBackend('wasm', threads)).detail, new RegExp(`${threads} thread`));
  });
  // The threaded build's workers would keep this test process alive.
  after(() => tf.removeBackend('wasm'));

  it('conv2d (forward and gradients) and depthwise gradients, strides 1 and 2, same and valid padding', async () => {
    for (const op of ['conv', 'depthwise'] as const)
      for (const stride of [1, 2])
        for (const pad of ['same', 'valid'] as const) assertClose(await on('cpu', () => convGrads(op, stride, pad)), await on('wasm', () => convGrads(op, stride, pad)), `${op} stride ${stride} ${pad}`);
    // Depthwise with multiplier 1 takes the SIMD path (6 channels: one group and a remainder).
    // The input gradient's paths: 3 channels (dot products only), 8 (one 8-wide group), 13 (8 + 4 + a dot
    // product), with 4-pixel tiles and their remainders; a 7x7 first layer at stride 2; 5 images over the threads.
    for (const [op, xShape, wShape] of [['conv', [3, 10, 10, 3], [3, 3, 3, 16]], ['conv', [2, 8, 13, 8], [5, 5, 8, 12]], ['conv', [5, 11, 9, 13], [3, 3, 13, 7]], ['conv', [2, 19, 17, 3], [7, 7, 3, 9]], ['depthwise', [2, 9, 9, 6], [3, 3, 6, 1]]] as ['conv' | 'depthwise', Shape4, Shape4][])
      for (const stride of [1, 2])
        for (const pad of ['same', 'valid'] as const) {
          const run = () => convGrads(op, stride, pad, xShape, wShape);
          assertClose(await on('cpu', run), await on('wasm', run), `${op} ${xShape} * ${wShape} stride ${stride} ${pad}`);
        }
  });

  it('max-pool gradient: overlapping and not, same and valid, ties go to the first maximum', async () => {
    for (const [size, stride] of [[2, 2], [3, 1], [3, 2]] as const)
      for (const pad of ['same', 'valid'] as const) assertClose(await on('cpu', () => maxPoolGrads(size, stride, pad)), await on('wasm', () => maxPoolGrads(size, stride, pad)), `maxPool ${size}/${stride} ${pad}`, 0);
  });

  it('sums over leading axes (bias gradients) and over other axes', async () => {
    const sums = (): Grads => {
      const out: Grads = {};
      // 6 channels: one 4-wide SIMD group and a scalar remainder.
      for (const channels of [4, 6]) {
        const x = input([3, 5, 7, channels], (i) => Math.sin(i * 0.7) * 10);
        // (Reductions over other axes are the stock kernel: checked once, on 4 channels.)
        const cases = channels === 4 ? ([['nhw', [0, 1, 2], false], ['n', [0], true], ['c', [3], false], ['hw', [1, 2], false], ['all', [0, 1, 2, 3], false]] as const) : ([['nhw', [0, 1, 2], false], ['n', [0], true]] as const);
        for (const [name, axes, keep] of cases) out[`${name}${channels}`] = tf.sum(x, [...axes], keep).dataSync() as Float32Array;
      }
      return out;
    };
    assertClose(await on('cpu', sums), await on('wasm', sums), 'sum', 1e-6);
  });

  it('tile: whole-tensor repeats (batch-norm gradients) and interleaving ones', async () => {
    const tiles = (): Grads => ({
      bn: tf.tile(input([1, 1, 1, 5], (i) => i - 2.5), [3, 4, 7, 1]).dataSync() as Float32Array,
      one: tf.tile(input([1, 1, 1, 1], () => 2), [2, 3, 1, 1]).dataSync() as Float32Array,
      interleave: tf.tile(input([1, 2, 1, 3], (i) => i), [2, 2, 3, 2]).dataSync() as Float32Array,
    });
    assertClose(await on('cpu', tiles), await on('wasm', tiles), 'tile', 0);
  });

  it('identity shares the data: a clone survives disposing the original', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const copy = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
    copy.dispose();
  });
});
