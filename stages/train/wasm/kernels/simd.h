/* Shared by the kernels: float type, inlining, and the one SIMD operation they are built on. */
#pragma once
#include <wasm_simd128.h>

typedef float f32;

#define INLINE static inline __attribute__((always_inline))

INLINE int min_c(int a, int b) { return a < b ? a : b; }

/*
 * acc + a * b, fused (one rounding) where the CPU has FMA: relaxed SIMD's f32x4.relaxed_madd.
 * clang 14 (Debian 12's) knows only its pre-standard form, `f32x4.fma` (opcode 0xaf), which
 * computed (first + second * third); build.sh renumbers those instructions to relaxed_madd
 * (0x105), which computes (first * second + third). So the operands below are in the
 * standard's order, and clang's idea of the result is wrong but never used: it neither folds
 * nor reorders the builtin.
 */
INLINE v128_t madd(v128_t acc, v128_t a, v128_t b) { return __builtin_wasm_fma_f32x4(a, b, acc); }
