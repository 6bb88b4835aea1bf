/*
 * gemm_avx512.c -- the AVX-512 microkernel of gemm.c.
 *
 * A tile of c of up to 12 rows x 32 columns lives in 24 of the 32 zmm
 * registers for a whole panel of terms. For each term p, two vectors of b
 * (32 columns) are loaded once and each row's a[r][p] is broadcast to all 16
 * lanes: 24 independent fused multiply-adds, each lane its own output. No
 * lane ever adds to another lane, so every output is the same fma chain as
 * in gemm_reference(). Columns beyond nr are masked off on load and store.
 *
 * Compiled for AVX-512 by a function attribute, not a build flag: the rest
 * of the library stays baseline x86-64, and gemm.c calls this only after
 * pl_isa_supported() said yes.
 */
#include "gemm.h"

#if PL_ISA_X86
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,fma")))
#define INLINE TARGET __attribute__((always_inline)) static inline

enum { MR = 12, NR = 32 };

/* The lanes of a 16-float vector that hold columns of c: the first `cols`. */
INLINE __mmask16 lanes(int cols)
{
    return cols >= 16 ? (__mmask16)0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
}

// [region gemm-microkernel]
/* c (mr, 32) += a (mr, kc) panel (kc, 32). mr is a constant in every copy
 * the compiler makes of this function, so lo[] and hi[] become registers. */
INLINE void tile(const int mr, int kc, const float *a, ptrdiff_t a_rs,
                 ptrdiff_t a_ps, const float *panel, float *c, ptrdiff_t ldc,
                 __mmask16 m0, __mmask16 m1)
{
    __m512 lo[MR], hi[MR]; /* row r: columns 0-15 and 16-31 */
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++) {
        lo[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
        hi[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
    }
    for (int p = 0; p < kc; p++, a += a_ps, panel += NR) {
        const __m512 b0 = _mm512_load_ps(panel), b1 = _mm512_load_ps(panel + 16);
        PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++) {
            const __m512 ar = _mm512_set1_ps(a[r * a_rs]); /* a[r][p], 16 times */
            lo[r] = _mm512_fmadd_ps(ar, b0, lo[r]);        /* lane j: c[r][j] += a b[p][j] */
            hi[r] = _mm512_fmadd_ps(ar, b1, hi[r]);
        }
    }
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, lo[r]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, hi[r]);
    }
}
// [endregion gemm-microkernel]

/* panel (kc, 32) = rows of b (masked past nr: the lanes load as zero). */
TARGET static void pack_rows(float *panel, const float *b, ptrdiff_t ld, int kc, int nr)
{
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
    for (int p = 0; p < kc; p++, b += ld, panel += NR) {
        _mm512_store_ps(panel, _mm512_maskz_loadu_ps(m0, b));
        _mm512_store_ps(panel + 16, _mm512_maskz_loadu_ps(m1, b + 16));
    }
}

/* A transposed b goes through AVX2's 8 x 8 transposes. */
TARGET static void pack_columns(float *panel, const float *b, ptrdiff_t ld, int kc, int nr)
{
    pl_gemm_avx2_pack_columns(panel, NR, b, ld, kc, nr);
}

/* One copy of tile() per row count, each also specialised for a^T (weight-
 * grad reads x column-wise, a_rs == 1, and its broadcasts become fixed
 * offsets from one pointer). */
#define ROWS(R)                                                                 \
    case R:                                                                     \
        if (a_rs == 1)                                                          \
            tile(R, kc, a, 1, a_ps, panel, c, ldc, m0, m1);                     \
        else                                                                    \
            tile(R, kc, a, a_rs, a_ps, panel, c, ldc, m0, m1);                  \
        break;

TARGET static void tile_any(int mr, int nr, int kc, const float *a,
                            ptrdiff_t a_rs, ptrdiff_t a_ps, const float *panel,
                            float *c, ptrdiff_t ldc)
{
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
    switch (mr) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6)
        ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12)
    }
}

const pl_gemm_path pl_gemm_avx512 = {MR, NR, tile_any, pack_rows, pack_columns};

#else
/* Not built here: pl_isa_supported() never chooses this path. */
const pl_gemm_path pl_gemm_avx512 = {0, 0, NULL, NULL, NULL};
#endif
