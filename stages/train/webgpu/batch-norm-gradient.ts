/**
 * The batch-norm gradient on WebGPU from one pass over x and dy. tfjs's gradient (its
 * FusedBatchNorm_grad) tiles 1/sqrt(var) to the activation's full size and makes four
 * full-size products for its four channel sums; here one kernel reads x and dy once for
 * both sums every gradient needs, sum(dy) and sum(dy * (x - mean)) per channel:
 *   d offset = sum(dy)                 d scale    = sum(dy (x - mean)) / sqrt(var + eps)
 *   d mean   = -scale sum(dy) / sqrt(var + eps)
 *   d var    = -scale sum(dy (x - mean)) / (2 (var + eps)^1.5)
 *   d x      = dy scale / sqrt(var + eps)   (one broadcast product)
 * Other backends, and means that are not one per channel, keep tfjs's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKernel } from '../kernel-util.js';
import { flatDispatch, i32Uniforms, runProgram, splitsFor, type WgslProgram } from './program.js';
import { sumSplits } from './partial-sums.js';

const SUMS = 'PipelineBatchNormSums';

function sumsProgram(splits: number, channels: number): WgslProgram {
  return {
    variableNames: ['x', 'dy', 'mean'],
    outputShape: [splits, 2, channels],
    shaderKey: 'pipelineBatchNormSums',
    workgroupSize: [64, 1, 1],
    dispatch: flatDispatch(splits * channels, 64),
    dispatchLayout: { x: [0, 1, 2] },
    size: true,
    uniforms: i32Uniforms(['rows', 'channels', 'rowChunk']),
    getUserCode: () => `
      fn main(index : i32) {
        if (index >= uniforms.size / 2) { return; }
        let c = index % uniforms.channels;
        let split = index / uniforms.channels;
        let rBegin = split * uniforms.rowChunk;
        let rEnd = min(uniforms.rows, rBegin + uniforms.rowChunk);
        let m = mean[c];
        var s1 = 0.0;
        var s2 = 0.0;
        for (var r = rBegin; r < rEnd; r++) {
          let i = r * uniforms.channels + c;
          let g = dy[i];
          s1 = s1 + g;
          s2 = s2 + g * (x[i] - m);
        }
        result[(split * 2) * uniforms.channels + c] = s1;
        result[(split * 2 + 1) * uniforms.channels + c] = s2;
      }`,
  };
}

function registerSumsKernel(): void {
  replaceKernel({
    kernelName: SUMS,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy, mean } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo; mean: tf.TensorInfo };
      const channels = mean.shape[0]!;
      const rows = x.shape.reduce((p, d) => p * d, 1) / channels;
      const splits = splitsFor(rows, channels);
      const partials = runProgram(backend, sumsProgram(splits, channels), [x, dy, mean], [rows, channels, Math.ceil(rows / splits)]);
      return sumSplits(backend, partials, [2, channels]);
    },
  });
}

type Saved = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];

export function registerBatchNormGradient(): void {
  registerSumsKernel();
  const stock = tf.getGradient('FusedBatchNorm');
  if (!stock) throw new Error('tfjs has no FusedBatchNorm gradient to replace');
  if ((stock as { pipelineFused?: boolean }).pipelineFused) return;
  const fused: tf.GradConfig & { pipelineFused: true } = {
    ...stock,
    pipelineFused: true,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as Saved;
      const dyT = dy as tf.Tensor;
      if (tf.getBackend() !== 'webgpu' || mean.rank !== 1 || x.rank < 2 || mean.shape[0] !== x.shape[x.rank - 1]) return stock.gradFunc(dy, saved, attrs);
      const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
      const rs = tf.rsqrt(tf.add(variance, eps));
      const gain = scale ? tf.mul(rs, scale) : rs;
      // Here, not inside the functions below: tfjs runs each of those in its own tidy.
      const [sumDy, sumDyX] = tf.unstack(tf.engine().runKernel(SUMS, { x, dy: dyT, mean }, {}) as tf.Tensor) as [tf.Tensor, tf.Tensor];
      return {
        x: () => tf.mul(dyT, gain),
        mean: () => tf.mul(tf.neg(gain), sumDy),
        variance: () => tf.mul(tf.mul(tf.mul(rs, rs), gain), tf.mul(sumDyX, -0.5)),
        scale: () => tf.mul(rs, sumDyX),
        offset: () => tf.clone(sumDy),
      };
    },
  };
  tf.registerGradient(fused);
}
