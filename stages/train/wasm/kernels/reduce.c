/*
 * Sum over leading axes: x [rows, width] -> out [width] (a bias gradient: dy [N,H,W,C] summed
 * over N, H, W). Accumulates in double precision, down each column, so each output is the same
 * sum whatever the split; part `part` of `parts` takes a contiguous range of 4-column groups.
 */
#include "simd.h"

__attribute__((export_name("sum_leading"))) void sum_leading(const f32 *x, f32 *out, int rows,
                                                             int width, int part, int parts) {
  const int groups = (width + 3) / 4;
  const int from = groups * part / parts, to = groups * (part + 1) / parts;
  for (int g = from; g < to; g++) {
    const int c = g * 4;
    if (c + 4 <= width) {
      v128_t lo = wasm_f64x2_splat(0), hi = wasm_f64x2_splat(0);
      const f32 *p = x + c;
      for (int r = 0; r < rows; r++, p += width) {
        const v128_t v = wasm_v128_load(p);
        lo = wasm_f64x2_add(lo, wasm_f64x2_promote_low_f32x4(v));
        hi = wasm_f64x2_add(hi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)));
      }
      out[c + 0] = (f32)wasm_f64x2_extract_lane(lo, 0);
      out[c + 1] = (f32)wasm_f64x2_extract_lane(lo, 1);
      out[c + 2] = (f32)wasm_f64x2_extract_lane(hi, 0);
      out[c + 3] = (f32)wasm_f64x2_extract_lane(hi, 1);
      continue;
    }
    for (int k = c; k < width; k++) {
      double acc = 0;
      const f32 *p = x + k;
      for (int r = 0; r < rows; r++, p += width) acc += *p;
      out[k] = (f32)acc;
    }
  }
}
