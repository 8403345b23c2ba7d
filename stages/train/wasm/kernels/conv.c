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
#include "simd.h"

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

/*
 * One tile of the forward convolution: PT output pixels (pixel i's input at x + i * ps) by
 * 4 * OV output channels, summed over the C channels of one filter tap (filter rows at w, O apart).
 */
#define FORWARD_TILE(PT, OV)                                                                      \
  INLINE void forward_tile_##PT##_##OV(const f32 *x, int ps, const f32 *w, int C, int O,         \
                                       v128_t acc[PT][OV]) {                                      \
    for (int c = 0; c < C; c++, w += O) {                                                         \
      v128_t f[OV];                                                                               \
      for (int v = 0; v < OV; v++) f[v] = wasm_v128_load(w + 4 * v);                             \
      for (int i = 0; i < PT; i++) {                                                              \
        v128_t a = wasm_v128_load32_splat(x + i * ps + c);                                        \
        for (int v = 0; v < OV; v++) acc[i][v] = madd(acc[i][v], a, f[v]);                        \
      }                                                                                           \
    }                                                                                             \
  }

FORWARD_TILE(4, 2)
FORWARD_TILE(4, 1)
FORWARD_TILE(1, 2)
FORWARD_TILE(1, 1)

/* Output pixels [ox, ox + PT) of row oy of image n, channels [o0, o0 + 4 * OV). */
#define FORWARD_BLOCK(PT, OV)                                                                     \
  INLINE void forward_block_##PT##_##OV(const f32 *x, const f32 *w, f32 *y, int n, int oy,       \
                                        int ox, int o0, const int *g) {                           \
    const int H = g[0], W = g[1], C = g[2], OH = g[3], OW = g[4], O = g[5], KH = g[6], KW = g[7]; \
    const int sh = g[8], sw = g[9], pt = g[10], pl = g[11];                                        \
    v128_t acc[PT][OV];                                                                           \
    for (int i = 0; i < PT; i++)                                                                  \
      for (int v = 0; v < OV; v++) acc[i][v] = wasm_f32x4_splat(0);                               \
    for (int ky = 0; ky < KH; ky++) {                                                             \
      const int iy = oy * sh + ky - pt;                                                           \
      if (iy < 0 || iy >= H) continue;                                                            \
      const f32 *row = x + (n * H + iy) * W * C;                                                  \
      if (sw == 1 && ox - pl >= 0 && ox + PT - 1 + KW - 1 - pl < W) {                             \
        /* Stride 1, every tap inside: a filter row's KW * C weights meet KW * C consecutive */    \
        /* inputs, one loop instead of KW (C = 3 in a first layer makes short loops). */          \
        forward_tile_##PT##_##OV(row + (ox - pl) * C, C, w + ky * KW * C * O + o0, KW * C, O, acc); \
        continue;                                                                                 \
      }                                                                                           \
      for (int kx = 0; kx < KW; kx++) {                                                           \
        const int ix0 = ox * sw + kx - pl, ix1 = (ox + PT - 1) * sw + kx - pl;                    \
        const f32 *wp = w + (ky * KW + kx) * C * O + o0;                                          \
        if (ix0 >= 0 && ix1 < W) {                                                                \
          forward_tile_##PT##_##OV(row + ix0 * C, sw * C, wp, C, O, acc);                         \
          continue;                                                                               \
        }                                                                                         \
        for (int i = 0; i < PT; i++) { /* at the image's edge: pixel by pixel */                  \
          const int ix = ix0 + i * sw;                                                            \
          if (ix < 0 || ix >= W) continue;                                                        \
          v128_t one[1][OV];                                                                      \
          for (int v = 0; v < OV; v++) one[0][v] = acc[i][v];                                     \
          forward_tile_1_##OV(row + ix * C, 0, wp, C, O, one);                                    \
          for (int v = 0; v < OV; v++) acc[i][v] = one[0][v];                                     \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    f32 *yp = y + ((n * OH + oy) * OW + ox) * O + o0;                                             \
    for (int i = 0; i < PT; i++)                                                                  \
      for (int v = 0; v < OV; v++) wasm_v128_store(yp + i * O + 4 * v, acc[i][v]);                \
  }

FORWARD_BLOCK(4, 2)
FORWARD_BLOCK(4, 1)
FORWARD_BLOCK(1, 2)
FORWARD_BLOCK(1, 1)

/* Output channels past the last multiple of 4: one scalar at a time. */
INLINE void forward_scalar(const f32 *x, const f32 *w, f32 *y, int n, int oy, int ox, int o,
                           const int *g) {
  const int H = g[0], W = g[1], C = g[2], OH = g[3], OW = g[4], O = g[5], KH = g[6], KW = g[7];
  const int sh = g[8], sw = g[9], pt = g[10], pl = g[11];
  f32 acc = 0;
  for (int ky = 0; ky < KH; ky++) {
    const int iy = oy * sh + ky - pt;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < KW; kx++) {
      const int ix = ox * sw + kx - pl;
      if (ix < 0 || ix >= W) continue;
      const f32 *xp = x + ((n * H + iy) * W + ix) * C;
      const f32 *wp = w + (ky * KW + kx) * C * O + o;
      for (int c = 0; c < C; c++) acc += xp[c] * wp[c * O];
    }
  }
  y[((n * OH + oy) * OW + ox) * O + o] = acc;
}

/*
 * y[n, oy, ox, o] = sum over taps and channels of x[n, oy * sh + ky - pt, ox * sw + kx - pl, c]
 * * w[ky, kx, c, o] (taps outside the image contribute nothing). Part `part` of `parts` computes
 * every parts-th output row; each output sums its terms in the same order whatever the split.
 */
__attribute__((export_name("conv2d"))) void conv2d(const f32 *x, const f32 *w, f32 *y, int N, int H,
                                                   int W, int C, int OH, int OW, int O, int KH,
                                                   int KW, int sh, int sw, int pt, int pl, int part,
                                                   int parts) {
  const int g[12] = {H, W, C, OH, OW, O, KH, KW, sh, sw, pt, pl};
  for (int r = part; r < N * OH; r += parts) {
    const int n = r / OH, oy = r % OH;
    int ox = 0;
    for (; ox + 4 <= OW; ox += 4) {
      int o = 0;
      for (; o + 8 <= O; o += 8) forward_block_4_2(x, w, y, n, oy, ox, o, g);
      for (; o + 4 <= O; o += 4) forward_block_4_1(x, w, y, n, oy, ox, o, g);
      for (int i = 0; i < 4; i++)
        for (int oo = o; oo < O; oo++) forward_scalar(x, w, y, n, oy, ox + i, oo, g);
    }
    for (; ox < OW; ox++) {
      int o = 0;
      for (; o + 8 <= O; o += 8) forward_block_1_2(x, w, y, n, oy, ox, o, g);
      for (; o + 4 <= O; o += 4) forward_block_1_1(x, w, y, n, oy, ox, o, g);
      for (int oo = o; oo < O; oo++) forward_scalar(x, w, y, n, oy, ox, oo, g);
    }
  }
}

/* wt[tap, o, c] = w[tap, c, o]: the filter with its channel axes swapped, for the input gradient. */
__attribute__((export_name("swap_filter_channels"))) void swap_filter_channels(const f32 *w, f32 *wt, int taps,
                                                                               int C, int O, int part,
                                                                               int parts) {
  for (int tap = part; tap < taps; tap += parts)
    for (int c = 0; c < C; c++)
      for (int o = 0; o < O; o++) wt[(tap * O + o) * C + c] = w[(tap * C + c) * O + o];
}

/*
 * PT input pixels (dx at dx + i * xs) by 4 * CV channels: += sum over o of dy[pixel i, o] *
 * wt[o, c] (dy rows `ds` apart, wt rows C apart).
 */
#define INPUT_TILE(PT, CV)                                                                        \
  INLINE void input_tile_##PT##_##CV(const f32 *dy, int ds, const f32 *wt, int O, int C, f32 *dx,  \
                                     int xs) {                                                    \
    v128_t acc[PT][CV];                                                                           \
    for (int i = 0; i < PT; i++)                                                                  \
      for (int v = 0; v < CV; v++) acc[i][v] = wasm_v128_load(dx + i * xs + 4 * v);              \
    for (int o = 0; o < O; o++, wt += C) {                                                        \
      v128_t f[CV];                                                                               \
      for (int v = 0; v < CV; v++) f[v] = wasm_v128_load(wt + 4 * v);                            \
      for (int i = 0; i < PT; i++) {                                                              \
        v128_t d = wasm_v128_load32_splat(dy + i * ds + o);                                       \
        for (int v = 0; v < CV; v++) acc[i][v] = madd(acc[i][v], d, f[v]);                        \
      }                                                                                           \
    }                                                                                             \
    for (int i = 0; i < PT; i++)                                                                  \
      for (int v = 0; v < CV; v++) wasm_v128_store(dx + i * xs + 4 * v, acc[i][v]);              \
  }

INPUT_TILE(4, 2)
INPUT_TILE(4, 1)
INPUT_TILE(1, 2)
INPUT_TILE(1, 1)

/* dx[c] += dy[pixel] . w[c, :] for one pixel, channels [c0, C) (fewer than 4): dot products over o. */
INLINE void input_dots(const f32 *dy, const f32 *w, int O, int c0, int C, f32 *dx) {
  for (int c = c0; c < C; c++) {
    const f32 *wc = w + c * O;
    v128_t acc = wasm_f32x4_splat(0);
    int o = 0;
    for (; o + 4 <= O; o += 4) acc = madd(acc, wasm_v128_load(dy + o), wasm_v128_load(wc + o));
    f32 sum = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
              wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    for (; o < O; o++) sum += dy[o] * wc[o];
    dx[c] += sum;
  }
}

/*
 * dx[n, iy, ix, c] = sum over output pixels and taps with iy = oy * sh + ky - pt and
 * ix = ox * sw + kx - pl of dy[n, oy, ox, o] * w[ky, kx, c, o]: each output pixel's gradient
 * goes straight to the input pixels its taps read, so a stride costs no interleaved zeros and
 * the filter needs no flip. Channels in multiples of 4 use wt (swap_filter_channels' layout),
 * the rest dot products over w. Part `part` of `parts` takes every parts-th image; within one,
 * each dx element sums in the same order (row, tap, column) whatever the split. dx must be zeroed.
 */
__attribute__((export_name("conv2d_input_grad"))) void conv2d_input_grad(
    const f32 *dy, const f32 *w, const f32 *wt, f32 *dx, int N, int H, int W, int C, int OH, int OW,
    int O, int KH, int KW, int sh, int sw, int pt, int pl, int part, int parts) {
  const int vec = C / 4 * 4;
  for (int n = part; n < N; n += parts)
    for (int oy = 0; oy < OH; oy++)
      for (int ky = 0; ky < KH; ky++) {
        const int iy = oy * sh + ky - pt;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; kx++) {
          const int from = first_valid(kx, pl, sw), to = end_valid(kx, pl, sw, W, OW);
          if (from >= to) continue;
          const int tap = ky * KW + kx;
          const f32 *dyRow = dy + (n * OH + oy) * OW * O;
          f32 *dxRow = dx + (n * H + iy) * W * C;
          const int xs = sw * C;
          int c = 0;
          for (; c + 8 <= vec; c += 8) {
            const f32 *wp = wt + tap * O * C + c;
            int ox = from;
            for (; ox + 4 <= to; ox += 4) input_tile_4_2(dyRow + ox * O, O, wp, O, C, dxRow + (ox * sw + kx - pl) * C + c, xs);
            for (; ox < to; ox++) input_tile_1_2(dyRow + ox * O, O, wp, O, C, dxRow + (ox * sw + kx - pl) * C + c, xs);
          }
          for (; c + 4 <= vec; c += 4) {
            const f32 *wp = wt + tap * O * C + c;
            int ox = from;
            for (; ox + 4 <= to; ox += 4) input_tile_4_1(dyRow + ox * O, O, wp, O, C, dxRow + (ox * sw + kx - pl) * C + c, xs);
            for (; ox < to; ox++) input_tile_1_1(dyRow + ox * O, O, wp, O, C, dxRow + (ox * sw + kx - pl) * C + c, xs);
          }
          if (vec < C)
            for (int ox = from; ox < to; ox++) input_dots(dyRow + ox * O, w + tap * C * O, O, vec, C, dxRow + (ox * sw + kx - pl) * C);
        }
      }
}
