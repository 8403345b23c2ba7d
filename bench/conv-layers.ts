/** Per-layer GFLOP/s of the SimpleCNN's convolutions on wasm. Usage: node dist/bench/conv-layers.js [threads] */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';

async function main(): Promise<void> {
  await initBackend('wasm', Number(process.argv[2] ?? 1));
  for (const [hw, c, o] of [[64, 3, 32], [32, 32, 64], [16, 64, 128]] as const) {
    const x = tf.randomNormal([32, hw, hw, c]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, c, o]) as tf.Tensor4D;
    const dy = tf.randomNormal([32, hw, hw, o]) as tf.Tensor4D;
    const flops = 2 * 32 * hw * hw * 9 * c * o;
    const time = (f: () => tf.Tensor): number => {
      tf.tidy(f).dispose();
      const start = performance.now();
      for (let i = 0; i < 5; i++) tf.tidy(f).dispose();
      return (performance.now() - start) / 5;
    };
    const fwd = time(() => tf.conv2d(x, w, 1, 'same'));
    const dx = time(() => tf.conv2dTranspose(dy, w, x.shape, 1, 'same'));
    const dw = time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    const g = (ms: number) => `${ms.toFixed(1)} ms ${(flops / ms / 1e6).toFixed(1)} GF/s`;
    console.log(`${hw}x${hw}x${c}->${o}: forward ${g(fwd)} | input grad ${g(dx)} | filter grad ${g(dw)}`);
  }
}
main().then(() => process.exit(0));
