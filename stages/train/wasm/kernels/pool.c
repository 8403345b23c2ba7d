/*
 * MaxPool's gradient: each window's dy goes to its maximum, the first one in row-major order
 * when several tie (tfjs's cpu kernel compares with a strict >). Windows never span two
 * images, so part `part` of `parts` takes every parts-th image; overlapping windows of one
 * image add up in the same order whatever the split. dx must be zeroed by the caller.
 */
#include "simd.h"

__attribute__((export_name("max_pool_grad"))) void max_pool_grad(
    const f32 *x, const f32 *dy, f32 *dx, int N, int H, int W, int C, int OH, int OW, int KH, int KW,
    int sh, int sw, int pt, int pl, int part, int parts) {
  for (int n = part; n < N; n += parts) {
    const f32 *xi = x + n * H * W * C;
    f32 *dxi = dx + n * H * W * C;
    const f32 *g = dy + n * OH * OW * C;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++, g += C) {
        const int y0 = oy * sh - pt, x0 = ox * sw - pl;
        const int ya = y0 < 0 ? 0 : y0, yb = y0 + KH > H ? H : y0 + KH;
        const int xa = x0 < 0 ? 0 : x0, xb = x0 + KW > W ? W : x0 + KW;
        if (ya >= yb || xa >= xb) continue;
        const int first = (ya * W + xa) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t best = wasm_v128_load(xi + first + c);
          v128_t at = wasm_i32x4_splat(first + c);
          for (int y = ya; y < yb; y++)
            for (int xx = (y == ya ? xa + 1 : xa); xx < xb; xx++) {
              const int off = (y * W + xx) * C + c;
              const v128_t v = wasm_v128_load(xi + off);
              const v128_t greater = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, greater);
              at = wasm_v128_bitselect(wasm_i32x4_splat(off), at, greater);
            }
          dxi[wasm_i32x4_extract_lane(at, 0) + 0] += g[c + 0];
          dxi[wasm_i32x4_extract_lane(at, 1) + 1] += g[c + 1];
          dxi[wasm_i32x4_extract_lane(at, 2) + 2] += g[c + 2];
          dxi[wasm_i32x4_extract_lane(at, 3) + 3] += g[c + 3];
        }
        for (; c < C; c++) {
          f32 best = xi[first + c];
          int at = first + c;
          for (int y = ya; y < yb; y++)
            for (int xx = (y == ya ? xa + 1 : xa); xx < xb; xx++) {
              const int off = (y * W + xx) * C + c;
              if (xi[off] > best) {
                best = xi[off];
                at = off;
              }
            }
          dxi[at] += g[c];
        }
      }
  }
}
