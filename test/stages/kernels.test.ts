import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../stages/train/backend.js';

/** Gradients of a conv or depthwise layer's output sum, on one backend. */
async function gradients(backend: string, op: 'conv' | 'depthwise', stride: number, pad: 'same' | 'valid'): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(Array.from({ length: 2 * 9 * 9 * 4 }, (_, i) => Math.sin(i * 0.37)), [2, 9, 9, 4]);
    const w = op === 'conv' ? tf.tensor4d(Array.from({ length: 3 * 3 * 4 * 5 }, (_, i) => Math.cos(i * 0.11)), [3, 3, 4, 5]) : tf.tensor4d(Array.from({ length: 3 * 3 * 4 * 2 }, (_, i) => Math.cos(i * 0.23)), [3, 3, 4, 2]);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => (op === 'conv' ? tf.conv2d(xx, ww, stride, pad) : tf.depthwiseConv2d(xx, ww, stride, pad)).square().sum();
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D))([x, w]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

describe('wasm training kernels match the cpu backend', () => {
  it('conv2d and depthwise gradients, strides 1 and 2, same and valid padding', async () => {
    await initBackend('wasm');
    for (const op of ['conv', 'depthwise'] as const) {
      for (const stride of [1, 2]) {
        for (const pad of ['same', 'valid'] as const) {
          const cpu = await gradients('cpu', op, stride, pad);
          const wasm = await gradients('wasm', op, stride, pad);
          for (const key of ['dx', 'dw'] as const) {
            const scale = Math.max(...cpu[key].map(Math.abs));
            const worst = Math.max(...cpu[key].map((v, i) => Math.abs(v - wasm[key][i])));
            assert.ok(worst <= 1e-4 * scale, `${op} stride ${stride} ${pad} ${key}: max error ${worst} (scale ${scale})`);
          }
        }
      }
    }
  });
});
