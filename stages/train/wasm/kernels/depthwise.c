/*
 * Depthwise-convolution gradients (MobileNet's blocks; the wasm backend has neither). Channel k
 * of x meets filter channels k * M .. k * M + M - 1 (M: the channel multiplier). Every
 * (output pixel, filter tap) pair inside the input adds one term, in the order image, output
 * row, output column, filter row, filter column, whatever the split.
 */
#include "simd.h"

/*
 * One pass over every (output pixel, filter tap) pair inside the input, for images
 * n0, n0 + step, ... and channels [k0, k1). For the input gradient, `a` is dy, `b` the filter
 * and `out` dx; for the filter gradient, `a` is x, `b` dy and `out` dW. Inlined with a constant
 * `filter_grad`, so each kernel gets its own loop.
 */
INLINE void depthwise_taps(int filter_grad, const f32 *a, const f32 *b, f32 *out, int n0, int step,
                           int k0, int k1, int N, int H, int W, int C, int OH, int OW, int M,
                           int KH, int KW, int sh, int sw, int dh, int dw, int pt, int pl) {
  const int OC = C * M;
  for (int n = n0; n < N; n += step)
    for (int p = 0; p < OH; p++)
      for (int q = 0; q < OW; q++) {
        const int pixel = ((n * OH + p) * OW + q) * OC;
        for (int i = 0; i < KH; i++) {
          const int y = p * sh + i * dh - pt;
          if (y < 0 || y >= H) continue;
          for (int j = 0; j < KW; j++) {
            const int x = q * sw + j * dw - pl;
            if (x < 0 || x >= W) continue;
            const int input = ((n * H + y) * W + x) * C, tap = (i * KW + j) * OC;
            /* dx[input] += dy[pixel] * w[tap], or dW[tap] += x[input] * dy[pixel] */
            const f32 *u = filter_grad ? a + input : a + pixel;
            const f32 *v = filter_grad ? b + pixel : b + tap;
            f32 *d = filter_grad ? out + tap : out + input;
            int k = k0;
            if (M == 1)
              for (; k + 4 <= k1; k += 4)
                wasm_v128_store(d + k, madd(wasm_v128_load(d + k), wasm_v128_load(u + k), wasm_v128_load(v + k)));
            for (; k < k1; k++)
              for (int m = 0; m < M; m++) {
                const int km = k * M + m;
                d[filter_grad ? km : k] += u[filter_grad ? k : km] * v[km];
              }
          }
        }
      }
}

/* dx += dy * w over every tap; part `part` of `parts` takes every parts-th image (a window never
 * spans two images). dx must be zeroed by the caller. */
__attribute__((export_name("depthwise_input_grad"))) void depthwise_input_grad(
    const f32 *dy, const f32 *w, f32 *dx, int N, int H, int W, int C, int OH, int OW, int M, int KH,
    int KW, int sh, int sw, int dh, int dw, int pt, int pl, int part, int parts) {
  depthwise_taps(0, dy, w, dx, part, parts, 0, C, N, H, W, C, OH, OW, M, KH, KW, sh, sw, dh, dw, pt, pl);
}

/* dW += x * dy over every tap; part `part` of `parts` takes a contiguous range of 4-channel
 * groups. dW must be zeroed by the caller. */
__attribute__((export_name("depthwise_filter_grad"))) void depthwise_filter_grad(
    const f32 *x, const f32 *dy, f32 *dwt, int N, int H, int W, int C, int OH, int OW, int M, int KH,
    int KW, int sh, int sw, int dh, int dw, int pt, int pl, int part, int parts) {
  const int groups = (C + 3) / 4;
  const int k0 = 4 * (groups * part / parts), k1 = min_c(C, 4 * (groups * (part + 1) / parts));
  if (k0 < k1) depthwise_taps(1, x, dy, dwt, 0, 1, k0, k1, N, H, W, C, OH, OW, M, KH, KW, sh, sw, dh, dw, pt, pl);
}
