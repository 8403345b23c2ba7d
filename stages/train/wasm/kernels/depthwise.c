/*
 * Depthwise-convolution gradients (MobileNet's blocks; the wasm backend has neither). Channel k
 * of x meets filter channels k * M .. k * M + M - 1 (M: the channel multiplier). Every
 * (output pixel, filter tap) pair inside the input adds one term, in the order image, output
 * row, output column, filter row, filter column, whatever the split.
 */
#include "simd.h"

/* dx += dy * w over every tap; part `part` of `parts` takes every parts-th image (a window never
 * spans two images). dx must be zeroed by the caller. */
__attribute__((export_name("depthwise_input_grad"))) void depthwise_input_grad(
    const f32 *dy, const f32 *w, f32 *dx, int N, int H, int W, int C, int OH, int OW, int M, int KH,
    int KW, int sh, int sw, int dh, int dw, int pt, int pl, int part, int parts) {
  const int OC = C * M;
  for (int n = part; n < N; n += parts)
    for (int p = 0; p < OH; p++)
      for (int q = 0; q < OW; q++) {
        const f32 *g = dy + ((n * OH + p) * OW + q) * OC;
        for (int i = 0; i < KH; i++) {
          const int y = p * sh + i * dh - pt;
          if (y < 0 || y >= H) continue;
          for (int j = 0; j < KW; j++) {
            const int x = q * sw + j * dw - pl;
            if (x < 0 || x >= W) continue;
            f32 *d = dx + ((n * H + y) * W + x) * C;
            const f32 *f = w + (i * KW + j) * OC;
            int k = 0;
            if (M == 1)
              for (; k + 4 <= C; k += 4)
                wasm_v128_store(d + k, madd(wasm_v128_load(d + k), wasm_v128_load(g + k), wasm_v128_load(f + k)));
            for (; k < C; k++)
              for (int m = 0; m < M; m++) d[k] += g[k * M + m] * f[k * M + m];
          }
        }
      }
}

/* dW += x * dy over every tap; part `part` of `parts` takes a contiguous range of 4-channel
 * groups. dW must be zeroed by the caller. */
__attribute__((export_name("depthwise_filter_grad"))) void depthwise_filter_grad(
    const f32 *x, const f32 *dy, f32 *dwt, int N, int H, int W, int C, int OH, int OW, int M, int KH,
    int KW, int sh, int sw, int dh, int dw, int pt, int pl, int part, int parts) {
  const int OC = C * M, groups = (C + 3) / 4;
  const int k0 = 4 * (groups * part / parts), k1 = min_c(C, 4 * (groups * (part + 1) / parts));
  if (k0 >= k1) return;
  for (int n = 0; n < N; n++)
    for (int p = 0; p < OH; p++)
      for (int q = 0; q < OW; q++) {
        const f32 *g = dy + ((n * OH + p) * OW + q) * OC;
        for (int i = 0; i < KH; i++) {
          const int y = p * sh + i * dh - pt;
          if (y < 0 || y >= H) continue;
          for (int j = 0; j < KW; j++) {
            const int xx = q * sw + j * dw - pl;
            if (xx < 0 || xx >= W) continue;
            const f32 *a = x + ((n * H + y) * W + xx) * C;
            f32 *f = dwt + (i * KW + j) * OC;
            int k = k0;
            if (M == 1)
              for (; k + 4 <= k1; k += 4)
                wasm_v128_store(f + k, madd(wasm_v128_load(f + k), wasm_v128_load(a + k), wasm_v128_load(g + k)));
            for (; k < k1; k++)
              for (int m = 0; m < M; m++) f[k * M + m] += a[k] * g[k * M + m];
          }
        }
      }
}
