/**
 * One tiled matrix product C[split][m][n] = sum over k in the split's range of A(m,k) * B(k,n),
 * where A and B are WGSL functions that compute an element from the program's buffers
 * (an implicit im2col: the patches matrix is never materialised). A 64-thread workgroup
 * computes a 32x32 tile of C, 4x4 per thread, staging 32x16 of A and 16x32 of B in
 * workgroup memory. Splitting k over workgroups (z) gives a small C (a filter gradient: a
 * few thousand weights, summed over a million pixels) enough parallel work; the splits are
 * then summed in a fixed order, so results are deterministic.
 */
import { i32Uniforms, type WgslProgram } from './program.js';

export const TILE = 32;
const TK = 16;

export interface GemmShape {
  m: number;
  n: number;
  k: number;
  /** Number of k ranges summed separately (output [splits, m, n]). */
  splits: number;
}

export function gemmProgram(key: string, variableNames: string[], shape: GemmShape, geometryUniforms: string[], loadA: string, loadB: string): WgslProgram {
  return {
    variableNames,
    outputShape: [shape.splits, shape.m, shape.n],
    shaderKey: `pipelineGemm_${key}`,
    workgroupSize: [8, 8, 1],
    dispatch: [Math.ceil(shape.n / TILE), Math.ceil(shape.m / TILE), shape.splits],
    dispatchLayout: { x: [2], y: [1], z: [0] },
    size: false,
    uniforms: i32Uniforms(['gemmM', 'gemmN', 'gemmK', 'kChunk', ...geometryUniforms]),
    getUserCode: () => `
      var<workgroup> tileA : array<array<f32, ${TK}>, ${TILE}>;
      var<workgroup> tileB : array<array<f32, ${TILE}>, ${TK}>;
      fn loadA(m : i32, k : i32) -> f32 { ${loadA} }
      fn loadB(k : i32, n : i32) -> f32 { ${loadB} }
      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * 8 + tx;
        let row0 = i32(workgroupId.y) * ${TILE};
        let col0 = i32(workgroupId.x) * ${TILE};
        let kBegin = i32(workgroupId.z) * uniforms.kChunk;
        let kEnd = min(uniforms.gemmK, kBegin + uniforms.kChunk);
        var acc : array<array<f32, 4>, 4>;
        // The trip count comes from uniforms only: barriers need uniform control flow.
        for (var t = 0; t < uniforms.kChunk / ${TK}; t++) {
          let k0 = kBegin + t * ${TK};
          for (var i = 0; i < 8; i++) {
            let e = tid + i * 64;
            let am = e / ${TK};
            let ak = e % ${TK};
            var va = 0.0;
            if (row0 + am < uniforms.gemmM && k0 + ak < kEnd) { va = loadA(row0 + am, k0 + ak); }
            tileA[am][ak] = va;
            let bk = e / ${TILE};
            let bn = e % ${TILE};
            var vb = 0.0;
            if (k0 + bk < kEnd && col0 + bn < uniforms.gemmN) { vb = loadB(k0 + bk, col0 + bn); }
            tileB[bk][bn] = vb;
          }
          workgroupBarrier();
          for (var kk = 0; kk < ${TK}; kk++) {
            var a : array<f32, 4>;
            var b : array<f32, 4>;
            for (var i = 0; i < 4; i++) {
              a[i] = tileA[ty * 4 + i][kk];
              b[i] = tileB[kk][tx * 4 + i];
            }
            for (var i = 0; i < 4; i++) {
              for (var j = 0; j < 4; j++) { acc[i][j] = acc[i][j] + a[i] * b[j]; }
            }
          }
          workgroupBarrier();
        }
        let base = i32(workgroupId.z) * uniforms.gemmM;
        for (var i = 0; i < 4; i++) {
          let m = row0 + ty * 4 + i;
          for (var j = 0; j < 4; j++) {
            let n = col0 + tx * 4 + j;
            if (m < uniforms.gemmM && n < uniforms.gemmN) { result[(base + m) * uniforms.gemmN + n] = acc[i][j]; }
          }
        }
      }`,
  };
}

/** The uniforms gemmProgram declares first, for runProgram. */
export function gemmUniforms(shape: GemmShape): number[] {
  return [shape.m, shape.n, shape.k, Math.ceil(shape.k / shape.splits / TK) * TK];
}
