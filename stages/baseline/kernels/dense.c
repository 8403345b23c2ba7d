/*
 * The probe's dense float64 products, in wasm SIMD (two lanes). No fused multiply-add: the
 * probe's coefficients are the same bits on every machine. Pointers are byte offsets into the
 * memory the module imports; the caller lays the operands out (stages/baseline/kernels.ts).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static inline double sum2(v128_t v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

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
      for (; b + 3 < D; b += 4) {
        const double *c0 = columns + (long)b * n + i0, *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
        v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < m; i += 2) {
          v128_t w = wasm_v128_load(wa + i);
          s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(w, wasm_v128_load(c0 + i)));
          s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(w, wasm_v128_load(c1 + i)));
          s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(w, wasm_v128_load(c2 + i)));
          s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(w, wasm_v128_load(c3 + i)));
        }
        out[(long)a * D + b] += sum2(s0);
        out[(long)a * D + b + 1] += sum2(s1);
        out[(long)a * D + b + 2] += sum2(s2);
        out[(long)a * D + b + 3] += sum2(s3);
      }
      for (; b < D; b++) {
        const double *cb = columns + (long)b * n + i0;
        v128_t s = wasm_f64x2_splat(0);
        for (int i = 0; i < m; i += 2) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_v128_load(wa + i), wasm_v128_load(cb + i)));
        out[(long)a * D + b] += sum2(s);
      }
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
  for (; k + 3 < rank; k += 4) {
    const double *b0 = basis + (long)k * d, *b1 = b0 + d, *b2 = b1 + d, *b3 = b2 + d;
    v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (int j = 0; j < d; j += 2) {
      v128_t x = wasm_v128_load(r + j);
      s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(x, wasm_v128_load(b0 + j)));
      s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(x, wasm_v128_load(b1 + j)));
      s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(x, wasm_v128_load(b2 + j)));
      s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(x, wasm_v128_load(b3 + j)));
    }
    c[k] = sum2(s0);
    c[k + 1] = sum2(s1);
    c[k + 2] = sum2(s2);
    c[k + 3] = sum2(s3);
  }
  for (; k < rank; k++) {
    const double *b0 = basis + (long)k * d;
    v128_t s = wasm_f64x2_splat(0);
    for (int j = 0; j < d; j += 2) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_v128_load(r + j), wasm_v128_load(b0 + j)));
    c[k] = sum2(s);
  }
  k = 0;
  for (; k + 3 < rank; k += 4) {
    const double *b0 = basis + (long)k * d, *b1 = b0 + d, *b2 = b1 + d, *b3 = b2 + d;
    v128_t c0 = wasm_f64x2_splat(c[k]), c1 = wasm_f64x2_splat(c[k + 1]), c2 = wasm_f64x2_splat(c[k + 2]), c3 = wasm_f64x2_splat(c[k + 3]);
    for (int j = 0; j < d; j += 2) {
      v128_t t = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(c0, wasm_v128_load(b0 + j)), wasm_f64x2_mul(c1, wasm_v128_load(b1 + j))),
                                wasm_f64x2_add(wasm_f64x2_mul(c2, wasm_v128_load(b2 + j)), wasm_f64x2_mul(c3, wasm_v128_load(b3 + j))));
      wasm_v128_store(r + j, wasm_f64x2_sub(wasm_v128_load(r + j), t));
    }
  }
  for (; k < rank; k++) {
    const double *b0 = basis + (long)k * d;
    v128_t ck = wasm_f64x2_splat(c[k]);
    for (int j = 0; j < d; j += 2) wasm_v128_store(r + j, wasm_f64x2_sub(wasm_v128_load(r + j), wasm_f64x2_mul(ck, wasm_v128_load(b0 + j))));
  }
}

/* x_i . v[0..d) for four rows at once (sharing the loads of v). */
static inline void dot4(const double *row, int d, const double *v, double *z) {
  const double *r1 = row + d, *r2 = r1 + d, *r3 = r2 + d;
  v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
  for (int j = 0; j < d; j += 2) {
    v128_t x = wasm_v128_load(v + j);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(x, wasm_v128_load(row + j)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(x, wasm_v128_load(r1 + j)));
    s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(x, wasm_v128_load(r2 + j)));
    s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(x, wasm_v128_load(r3 + j)));
  }
  z[0] = sum2(s0);
  z[1] = sum2(s1);
  z[2] = sum2(s2);
  z[3] = sum2(s3);
}

static inline double dot1(const double *row, int d, const double *v) {
  v128_t s = wasm_f64x2_splat(0);
  for (int j = 0; j < d; j += 2) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_v128_load(row + j), wasm_v128_load(v + j)));
  return sum2(s);
}

/* out[0..d) += sum of a[k] x_k over four rows at once (one read-modify-write of out per four rows). */
static inline void axpy4(const double *row, int d, const double *a, double *out) {
  const double *r1 = row + d, *r2 = r1 + d, *r3 = r2 + d;
  v128_t a0 = wasm_f64x2_splat(a[0]), a1 = wasm_f64x2_splat(a[1]), a2 = wasm_f64x2_splat(a[2]), a3 = wasm_f64x2_splat(a[3]);
  for (int j = 0; j < d; j += 2) {
    v128_t t = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a0, wasm_v128_load(row + j)), wasm_f64x2_mul(a1, wasm_v128_load(r1 + j))),
                              wasm_f64x2_add(wasm_f64x2_mul(a2, wasm_v128_load(r2 + j)), wasm_f64x2_mul(a3, wasm_v128_load(r3 + j))));
    wasm_v128_store(out + j, wasm_f64x2_add(wasm_v128_load(out + j), t));
  }
}

static inline void axpy1(const double *row, int d, double a, double *out) {
  v128_t av = wasm_f64x2_splat(a);
  for (int j = 0; j < d; j += 2) wasm_v128_store(out + j, wasm_f64x2_add(wasm_v128_load(out + j), wasm_f64x2_mul(av, wasm_v128_load(row + j))));
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
    dot4(row, d, v, z);
    for (int k = 0; k < 4; k++) {
      z[k] = c[i + k] * (z[k] + v[d]);
      out[d] += z[k];
    }
    axpy4(row, d, z, out);
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
    dot4(x + (long)i * d, d, v, out + i);
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
    axpy4(x + (long)i * d, d, a + i, out);
    out[d] += a[i] + a[i + 1] + a[i + 2] + a[i + 3];
  }
  for (; i < n; i++) {
    axpy1(x + (long)i * d, d, a[i], out);
    out[d] += a[i];
  }
}
