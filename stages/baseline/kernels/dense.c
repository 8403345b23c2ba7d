/*
 * The probe's dense float64 products, in wasm SIMD (two lanes). No fused multiply-add: the
 * probe's coefficients are the same bits on every machine. Pointers are byte offsets into the
 * memory the module imports; the caller lays the operands out (stages/baseline/kernels.ts).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static inline double sum2(v128_t v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

/* z[k] = x_k . v over `length` entries for the four vectors x_k = first + k * stride (sharing the loads of v). */
static inline void dot4(const double *first, long stride, int length, const double *v, double *z) {
  const double *x1 = first + stride, *x2 = x1 + stride, *x3 = x2 + stride;
  v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
  for (int j = 0; j < length; j += 2) {
    v128_t x = wasm_v128_load(v + j);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(x, wasm_v128_load(first + j)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(x, wasm_v128_load(x1 + j)));
    s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(x, wasm_v128_load(x2 + j)));
    s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(x, wasm_v128_load(x3 + j)));
  }
  z[0] = sum2(s0);
  z[1] = sum2(s1);
  z[2] = sum2(s2);
  z[3] = sum2(s3);
}

static inline double dot1(const double *x, int length, const double *v) {
  v128_t s = wasm_f64x2_splat(0);
  for (int j = 0; j < length; j += 2) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_v128_load(x + j), wasm_v128_load(v + j)));
  return sum2(s);
}

/* out[0..length) += sum of a[k] x_k, x_k = first + k * stride, four at once (one read-modify-write of out). */
static inline void axpy4(const double *first, long stride, int length, const double *a, double *out) {
  const double *x1 = first + stride, *x2 = x1 + stride, *x3 = x2 + stride;
  v128_t a0 = wasm_f64x2_splat(a[0]), a1 = wasm_f64x2_splat(a[1]), a2 = wasm_f64x2_splat(a[2]), a3 = wasm_f64x2_splat(a[3]);
  for (int j = 0; j < length; j += 2) {
    v128_t t = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a0, wasm_v128_load(first + j)), wasm_f64x2_mul(a1, wasm_v128_load(x1 + j))),
                              wasm_f64x2_add(wasm_f64x2_mul(a2, wasm_v128_load(x2 + j)), wasm_f64x2_mul(a3, wasm_v128_load(x3 + j))));
    wasm_v128_store(out + j, wasm_f64x2_add(wasm_v128_load(out + j), t));
  }
}

static inline void axpy1(const double *x, int length, double a, double *out) {
  v128_t av = wasm_f64x2_splat(a);
  for (int j = 0; j < length; j += 2) wasm_v128_store(out + j, wasm_f64x2_add(wasm_v128_load(out + j), wasm_f64x2_mul(av, wasm_v128_load(x + j))));
}

/*
 * The upper triangle of W^T diag(c) W, D x D row-major, for W given by its D columns of n
 * entries each (column-major, n even: the caller pads with zero weights). `weighted` is n
 * entries of scratch. The samples go in blocks whose column slices stay in cache while every
 * pair of columns is summed over them (unblocked, each pass over a column streamed all of W
 * from memory again); four entries per pass over a weighted slice.
 */
#define GRAM_BLOCK 256

EXPORT(weighted_gram)
void weighted_gram(const double *columns, const double *c, int n, int D, double *weighted, double *out) {
  for (long k = 0; k < (long)D * D; k++) out[k] = 0;
  for (int i0 = 0; i0 < n; i0 += GRAM_BLOCK) {
    int m = n - i0 < GRAM_BLOCK ? n - i0 : GRAM_BLOCK;
    for (int a = 0; a < D; a++) {
      const double *ca = columns + (long)a * n + i0;
      double *wa = weighted + i0;
      for (int i = 0; i < m; i += 2)
        wasm_v128_store(wa + i, wasm_f64x2_mul(wasm_v128_load(c + i0 + i), wasm_v128_load(ca + i)));
      int b = a;
      double z[4];
      for (; b + 3 < D; b += 4) {
        dot4(columns + (long)b * n + i0, n, m, wa, z);
        for (int k = 0; k < 4; k++) out[(long)a * D + b + k] += z[k];
      }
      for (; b < D; b++) out[(long)a * D + b] += dot1(columns + (long)b * n + i0, m, wa);
    }
  }
}

/*
 * c = B r, then r -= B^T c, for B `rank` rows of d entries (d even: the caller pads with zeros).
 * Four basis rows per pass over r.
 */
EXPORT(project)
void project(const double *basis, int rank, int d, double *r, double *c) {
  int k = 0;
  for (; k + 3 < rank; k += 4) dot4(basis + (long)k * d, d, d, r, c + k);
  for (; k < rank; k++) c[k] = dot1(basis + (long)k * d, d, r);
  // r -= B^T c as r += B^T (-c): negation is exact, so the bits are those of a subtraction.
  double minus[4];
  for (k = 0; k + 3 < rank; k += 4) {
    for (int q = 0; q < 4; q++) minus[q] = -c[k + q];
    axpy4(basis + (long)k * d, d, d, minus, r);
  }
  for (; k < rank; k++) axpy1(basis + (long)k * d, d, -c[k], r);
}

/*
 * out = X~^T diag(c) X~ v (X n rows of d entries, d even, v and out d + 1 entries, the last the
 * intercept's), one pass over the rows, four rows at a time: each block is read from memory
 * once, its second use hits the cache.
 */
EXPORT(weighted_gram_product)
void weighted_gram_product(const double *x, const double *c, const double *v, int n, int d, double *out) {
  for (int j = 0; j <= d; j++) out[j] = 0;
  double z[4];
  int i = 0;
  for (; i + 3 < n; i += 4) {
    const double *row = x + (long)i * d;
    dot4(row, d, d, v, z);
    for (int k = 0; k < 4; k++) {
      z[k] = c[i + k] * (z[k] + v[d]);
      out[d] += z[k];
    }
    axpy4(row, d, d, z, out);
  }
  for (; i < n; i++) {
    const double *row = x + (long)i * d;
    double a = c[i] * (dot1(row, d, v) + v[d]);
    axpy1(row, d, a, out);
    out[d] += a;
  }
}

/* out[i] = x_i . v[0..d) + v[d]. */
EXPORT(margins)
void margins(const double *x, const double *v, int n, int d, double *out) {
  int i = 0;
  for (; i + 3 < n; i += 4) {
    dot4(x + (long)i * d, d, d, v, out + i);
    for (int k = 0; k < 4; k++) out[i + k] += v[d];
  }
  for (; i < n; i++) out[i] = dot1(x + (long)i * d, d, v) + v[d];
}

/* out = X~^T a. */
EXPORT(transposed_product)
void transposed_product(const double *x, const double *a, int n, int d, double *out) {
  for (int j = 0; j <= d; j++) out[j] = 0;
  int i = 0;
  for (; i + 3 < n; i += 4) {
    axpy4(x + (long)i * d, d, d, a + i, out);
    out[d] += a[i] + a[i + 1] + a[i + 2] + a[i + 3];
  }
  for (; i < n; i++) {
    axpy1(x + (long)i * d, d, a[i], out);
    out[d] += a[i];
  }
}
