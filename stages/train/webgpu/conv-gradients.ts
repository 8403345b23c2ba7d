/**
 * Convolution gradients on WebGPU as implicit matrix products (gemm.ts). tfjs-backend-webgpu
 * 4.22 runs the filter gradient with one thread per filter weight, each looping over
 * batch x height x width: 95% of a training step. NHWC only; anything else (NCHW, dilations)
 * goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKeepingFallback, type Conv2DAttrs } from '../kernel-util.js';
import { gemmProgram, gemmUniforms, type GemmShape } from './gemm.js';
import { runProgram, splitsFor } from './program.js';
import { sumSplits } from './partial-sums.js';

const GEOMETRY = ['batch', 'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft'];

function geometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
}

/** dW[kh,kw,ci,co] = sum over (b,oy,ox) of x[b, oy*s-pad+kh, ox*s-pad+kw, ci] * dy[b,oy,ox,co]. */
const filterGradLoadA = `
  let ci = m % uniforms.inC;
  let tap = m / uniforms.inC;
  let ox = k % uniforms.outW;
  let rest = k / uniforms.outW;
  let iy = (rest % uniforms.outH) * uniforms.strideH - uniforms.padTop + tap / uniforms.kW;
  let ix = ox * uniforms.strideW - uniforms.padLeft + tap % uniforms.kW;
  if (iy < 0 || iy >= uniforms.inH || ix < 0 || ix >= uniforms.inW) { return 0.0; }
  return x[(((rest / uniforms.outH) * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ci];`;
const filterGradLoadB = `return dy[k * uniforms.outC + n];`;

/** dx[b,iy,ix,ci] = sum over (kh,kw,co) of dy[b, (iy+pad-kh)/s, (ix+pad-kw)/s, co] * W[kh,kw,ci,co], where divisible. */
const inputGradLoadA = `
  let co = k % uniforms.outC;
  let tap = k / uniforms.outC;
  let ix = m % uniforms.inW;
  let rest = m / uniforms.inW;
  let ny = rest % uniforms.inH + uniforms.padTop - tap / uniforms.kW;
  let nx = ix + uniforms.padLeft - tap % uniforms.kW;
  if (ny < 0 || nx < 0 || ny % uniforms.strideH != 0 || nx % uniforms.strideW != 0) { return 0.0; }
  let oy = ny / uniforms.strideH;
  let ox = nx / uniforms.strideW;
  if (oy >= uniforms.outH || ox >= uniforms.outW) { return 0.0; }
  return dy[(((rest / uniforms.inH) * uniforms.outH + oy) * uniforms.outW + ox) * uniforms.outC + co];`;
const inputGradLoadB = `return W[((k / uniforms.outC) * uniforms.inC + n) * uniforms.outC + k % uniforms.outC];`;

function nhwcInfo(xShape: number[], filterShape: number[], a: Conv2DAttrs): tf.backend_util.Conv2DInfo | undefined {
  const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (format !== 'channelsLast') return undefined;
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, format);
}

export function registerConv2DBackpropFilter(): void {
  replaceKeepingFallback<{ x: tf.TensorInfo; dy: tf.TensorInfo }, Conv2DAttrs>('Conv2DBackpropFilter', 'webgpu', ({ x, dy }, a, backend) => {
    const info = nhwcInfo(x.shape, a.filterShape!, a);
    if (!info) return undefined;
    const m = info.filterHeight * info.filterWidth * info.inChannels;
    const k = info.batchSize * info.outHeight * info.outWidth;
    const shape: GemmShape = { m, n: info.outChannels, k, splits: splitsFor(k, Math.ceil(m / 32) * Math.ceil(info.outChannels / 32) * 64, 1 << 16) };
    const program = gemmProgram('convFilterGrad', ['x', 'dy'], shape, GEOMETRY, filterGradLoadA, filterGradLoadB);
    return sumSplits(backend, runProgram(backend, program, [x, dy], [...gemmUniforms(shape), ...geometry(info)]), a.filterShape!);
  });
}

export function registerConv2DBackpropInput(): void {
  replaceKeepingFallback<{ dy: tf.TensorInfo; filter: tf.TensorInfo }, Conv2DAttrs>('Conv2DBackpropInput', 'webgpu', ({ dy, filter }, a, backend) => {
    const info = nhwcInfo(a.inputShape!, filter.shape, a);
    if (!info) return undefined;
    const shape: GemmShape = { m: info.batchSize * info.inHeight * info.inWidth, n: info.inChannels, k: info.filterHeight * info.filterWidth * info.outChannels, splits: 1 };
    const program = gemmProgram('convInputGrad', ['dy', 'W'], shape, GEOMETRY, inputGradLoadA, inputGradLoadB);
    return sumSplits(backend, runProgram(backend, program, [dy, filter], [...gemmUniforms(shape), ...geometry(info)]), a.inputShape!);
  });
}
