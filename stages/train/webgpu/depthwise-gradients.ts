/**
 * Depthwise convolution gradients on WebGPU (MobileNet's blocks). The filter gradient is a
 * reduction over every output pixel per weight, so it is split over k ranges like the
 * convolution's (summed in a fixed order afterwards); the input gradient is one thread per
 * input element over its few taps. NHWC, dilation 1; anything else goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKeepingFallback, type Conv2DAttrs } from '../kernel-util.js';
import { flatDispatch, i32Uniforms, runProgram, splitsFor, type WgslProgram } from './program.js';
import { sumSplits } from './partial-sums.js';

const GEOMETRY = ['batch', 'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft', 'mult'];

function geometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, info.outChannels / info.inChannels];
}

function depthwiseInfo(xShape: number[], filterShape: number[], a: Conv2DAttrs): tf.backend_util.Conv2DInfo | undefined {
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  return info.dilationHeight === 1 && info.dilationWidth === 1 ? info : undefined;
}

function flatProgram(key: string, variableNames: string[], outputShape: number[], extraUniforms: string[], body: string): WgslProgram {
  const size = outputShape.reduce((p, d) => p * d, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: `pipelineDepthwise_${key}`,
    workgroupSize: [64, 1, 1],
    dispatch: flatDispatch(size, 64),
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    size: true,
    uniforms: i32Uniforms([...GEOMETRY, ...extraUniforms]),
    getUserCode: () => `fn main(index : i32) { if (index < uniforms.size) { ${body} } }`,
  };
}

const filterGradBody = `
  let weights = uniforms.kH * uniforms.kW * uniforms.outC;
  let w = index % weights;
  let kBegin = (index / weights) * uniforms.kChunk;
  let kEnd = min(uniforms.batch * uniforms.outH * uniforms.outW, kBegin + uniforms.kChunk);
  let oc = w % uniforms.outC;
  let c = oc / uniforms.mult;
  let tap = w / uniforms.outC;
  let kh = tap / uniforms.kW;
  let kw = tap % uniforms.kW;
  var acc = 0.0;
  for (var k = kBegin; k < kEnd; k++) {
    let ox = k % uniforms.outW;
    let rest = k / uniforms.outW;
    let iy = (rest % uniforms.outH) * uniforms.strideH - uniforms.padTop + kh;
    let ix = ox * uniforms.strideW - uniforms.padLeft + kw;
    if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
      acc = acc + x[(((rest / uniforms.outH) * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + c] * dy[k * uniforms.outC + oc];
    }
  }
  result[index] = acc;`;

const inputGradBody = `
  let c = index % uniforms.inC;
  let ix = (index / uniforms.inC) % uniforms.inW;
  let rest = index / (uniforms.inC * uniforms.inW);
  let iy = rest % uniforms.inH;
  let b = rest / uniforms.inH;
  var acc = 0.0;
  for (var kh = 0; kh < uniforms.kH; kh++) {
    let ny = iy + uniforms.padTop - kh;
    if (ny < 0 || ny % uniforms.strideH != 0 || ny / uniforms.strideH >= uniforms.outH) { continue; }
    for (var kw = 0; kw < uniforms.kW; kw++) {
      let nx = ix + uniforms.padLeft - kw;
      if (nx < 0 || nx % uniforms.strideW != 0 || nx / uniforms.strideW >= uniforms.outW) { continue; }
      let dyBase = ((b * uniforms.outH + ny / uniforms.strideH) * uniforms.outW + nx / uniforms.strideW) * uniforms.outC + c * uniforms.mult;
      let wBase = ((kh * uniforms.kW + kw) * uniforms.inC + c) * uniforms.mult;
      for (var q = 0; q < uniforms.mult; q++) { acc = acc + dy[dyBase + q] * W[wBase + q]; }
    }
  }
  result[index] = acc;`;

export function registerDepthwiseGradients(): void {
  replaceKeepingFallback<{ x: tf.TensorInfo; dy: tf.TensorInfo }, Conv2DAttrs>('DepthwiseConv2dNativeBackpropFilter', 'webgpu', ({ x, dy }, a, backend) => {
    const info = depthwiseInfo(x.shape, a.filterShape!, a);
    if (!info) return undefined;
    const weights = a.filterShape!.reduce((p, d) => p * d, 1);
    const k = info.batchSize * info.outHeight * info.outWidth;
    const splits = splitsFor(k, weights);
    const program = flatProgram('filterGrad', ['x', 'dy'], [splits, weights], ['kChunk'], filterGradBody);
    return sumSplits(backend, runProgram(backend, program, [x, dy], [...geometry(info), Math.ceil(k / splits)]), a.filterShape!);
  });
  replaceKeepingFallback<{ dy: tf.TensorInfo; filter: tf.TensorInfo }, Conv2DAttrs>('DepthwiseConv2dNativeBackpropInput', 'webgpu', ({ dy, filter }, a, backend) => {
    const info = depthwiseInfo(a.inputShape!, filter.shape, a);
    if (!info) return undefined;
    return runProgram(backend, flatProgram('inputGrad', ['dy', 'W'], a.inputShape!, [], inputGradBody), [dy, filter], geometry(info));
  });
}
