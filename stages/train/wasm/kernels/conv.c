/*
 * Training kernels for tfjs-backend-wasm, compiled to their own wasm module that imports the
 * backend's memory, so they read and write tensors in place (build: build.sh).
 *
 * Rules that keep this module safe inside another module's memory:
 * - no static data and no C stack (no arrays in memory, no libc): instantiating the module must
 *   not write a byte of the backend's heap; the loader checks the binary has no data section;
 * - every function takes `part` and `parts` and computes only its share of the outputs, the same
 *   share whatever the number of parts, so results do not depend on the thread count.
 *
 * Layouts are tfjs's: NHWC activations, [KH, KW, C, O] filters.
 */
#include <wasm_simd128.h>

typedef float f32;

#define INLINE static inline __attribute__((always_inline))

INLINE v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

INLINE int min_i(int a, int b) { return a < b ? a : b; }

/* First output index q with q * stride + k - pad >= 0, and one past the last with it < size. */
INLINE int first_valid(int k, int pad, int stride) {
  int d = pad - k;
  return d <= 0 ? 0 : (d + stride - 1) / stride;
}
INLINE int end_valid(int k, int pad, int stride, int size, int out) {
  int d = size - 1 + pad - k;
  return d < 0 ? 0 : min_i(out, d / stride + 1);
}

/*
 * One tile of the filter gradient: dW[tap, c0 .. c0+CT, o0 .. o0+4*OV] += sum over the pixels
 * of one output row segment of x[pixel, c] * dy[pixel, o]. x rows are `xs` floats apart per
 * output column (stride * C), dy rows `O` floats.
 */
#define FILTER_TILE(CT, OV)                                                                       \
  INLINE void filter_tile_##CT##_##OV(const f32 *x, int xs, const f32 *dy, int O, int count,     \
                                      f32 *dw) {                                                  \
    v128_t acc[CT][OV];                                                                           \
    for (int i = 0; i < CT; i++)                                                                  \
      for (int v = 0; v < OV; v++) acc[i][v] = wasm_v128_load(dw + i * O + 4 * v);               \
    for (int p = 0; p < count; p++) {                                                             \
      v128_t d[OV];                                                                               \
      for (int v = 0; v < OV; v++) d[v] = wasm_v128_load(dy + 4 * v);                            \
      for (int i = 0; i < CT; i++) {                                                              \
        v128_t a = wasm_v128_load32_splat(x + i);                                                 \
        for (int v = 0; v < OV; v++) acc[i][v] = madd(acc[i][v], a, d[v]);                        \
      }                                                                                           \
      x += xs;                                                                                    \
      dy += O;                                                                                    \
    }                                                                                             \
    for (int i = 0; i < CT; i++)                                                                  \
      for (int v = 0; v < OV; v++) wasm_v128_store(dw + i * O + 4 * v, acc[i][v]);               \
  }

FILTER_TILE(4, 2)
FILTER_TILE(3, 2)
FILTER_TILE(2, 2)
FILTER_TILE(1, 2)
FILTER_TILE(4, 1)
FILTER_TILE(3, 1)
FILTER_TILE(2, 1)
FILTER_TILE(1, 1)

/* Outputs that are not a multiple of 4 wide: one scalar column at a time. */
INLINE void filter_scalar(const f32 *x, int xs, const f32 *dy, int O, int count, int ct, f32 *dw) {
  for (int i = 0; i < ct; i++) {
    f32 acc = dw[i * O];
    const f32 *xp = x + i, *dp = dy;
    for (int p = 0; p < count; p++, xp += xs, dp += O) acc += *xp * *dp;
    dw[i * O] = acc;
  }
}

INLINE void filter_row(const f32 *x, int xs, const f32 *dy, int O, int count, int ct, f32 *dw) {
  int o = 0;
  for (; o + 8 <= O; o += 8) switch (ct) {
      case 4: filter_tile_4_2(x, xs, dy + o, O, count, dw + o); break;
      case 3: filter_tile_3_2(x, xs, dy + o, O, count, dw + o); break;
      case 2: filter_tile_2_2(x, xs, dy + o, O, count, dw + o); break;
      default: filter_tile_1_2(x, xs, dy + o, O, count, dw + o); break;
    }
  for (; o + 4 <= O; o += 4) switch (ct) {
      case 4: filter_tile_4_1(x, xs, dy + o, O, count, dw + o); break;
      case 3: filter_tile_3_1(x, xs, dy + o, O, count, dw + o); break;
      case 2: filter_tile_2_1(x, xs, dy + o, O, count, dw + o); break;
      default: filter_tile_1_1(x, xs, dy + o, O, count, dw + o); break;
    }
  for (; o < O; o++) filter_scalar(x, xs, dy + o, O, count, ct, dw + o);
}

/*
 * dW[KH,KW,C,O] = sum over images and output pixels of x[n, iy, ix, c] * dy[n, oy, ox, o] with
 * iy = oy * sh + ky - pt, ix = ox * sw + kx - pl (taps outside the image contribute nothing).
 * Work items are (tap, 4-channel group); part `part` of `parts` takes every parts-th item. Each
 * dW element sums its pixels in the same order (image, row, column) whatever the split.
 * dW must be zeroed by the caller.
 */
__attribute__((export_name("conv2d_filter_grad"))) void conv2d_filter_grad(
    const f32 *x, const f32 *dy, f32 *dw, int N, int H, int W, int C, int OH, int OW, int O, int KH,
    int KW, int sh, int sw, int pt, int pl, int part, int parts) {
  const int groups = (C + 3) / 4;
  const int items = KH * KW * groups;
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < OH; oy++)
      for (int item = part; item < items; item += parts) {
        const int tap = item / groups, c0 = (item % groups) * 4, ct = min_i(4, C - c0);
        const int ky = tap / KW, kx = tap % KW;
        const int iy = oy * sh + ky - pt;
        if (iy < 0 || iy >= H) continue;
        const int from = first_valid(kx, pl, sw), to = end_valid(kx, pl, sw, W, OW);
        if (from >= to) continue;
        const f32 *xp = x + ((n * H + iy) * W + from * sw + kx - pl) * C + c0;
        const f32 *dp = dy + ((n * OH + oy) * OW + from) * O;
        filter_row(xp, sw * C, dp, O, to - from, ct, dw + (tap * C + c0) * O);
      }
}
