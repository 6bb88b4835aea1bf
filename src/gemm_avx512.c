/*
 * gemm_avx512.c -- the AVX-512 microkernel of gemm.c.
 *
 * A tile of c of up to 6 rows x 64 columns lives in 24 of the 32 zmm
 * registers for a whole panel of terms. For each term p, four vectors of b
 * (64 columns) are loaded once and each row's a[r][p] is broadcast to all 16
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

#define TARGET __attribute__((target("avx512f,avx2,fma")))
#define INLINE TARGET __attribute__((always_inline)) static inline

/* MR rows x NV vectors of 16 floats: the tile, NR = 64 columns. */
enum { MR = 6, NV = 4, NR = 16 * NV };

/* The lanes of a 16-float vector that hold columns of c: the first `cols`. */
INLINE __mmask16 lanes(int cols)
{
    return cols >= 16 ? (__mmask16)0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
}

// [region gemm-microkernel]
/* c (mr, 64) += a (mr, kc) panel (kc, 64). mr is a constant in every copy
 * the compiler makes of this function, so acc[][] becomes 24 registers. */
INLINE void tile(const int mr, int kc, const float *a, ptrdiff_t a_rs,
                 ptrdiff_t a_ps, const float *panel, float *c, ptrdiff_t ldc,
                 const __mmask16 *mask)
{
    __m512 acc[MR][NV]; /* acc[r][v]: c[r][16v .. 16v+15] */
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++)
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_maskz_loadu_ps(mask[v], c + r * ldc + 16 * v);
    for (int p = 0; p < kc; p++, a += a_ps, panel += NR) {
        __m512 b[NV]; /* b[p][0 .. 63] */
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            b[v] = _mm512_load_ps(panel + 16 * v);
        PL_GEMM_UNROLL
        for (int r = 0; r < mr; r++) {
            const __m512 ar = _mm512_set1_ps(a[r * a_rs]); /* a[r][p] in every lane */
            PL_GEMM_UNROLL
            for (int v = 0; v < NV; v++)                   /* lane j: c[r][j] += a[r][p] b[p][j] */
                acc[r][v] = _mm512_fmadd_ps(ar, b[v], acc[r][v]);
        }
    }
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++)
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask[v], acc[r][v]);
}
// [endregion gemm-microkernel]

/* panel (kc, 64) = rows of b (masked past nr: the lanes load as zero). */
TARGET static void pack_rows(float *panel, const float *b, ptrdiff_t ld, int kc, int nr)
{
    __mmask16 mask[NV];
    for (int v = 0; v < NV; v++)
        mask[v] = lanes(nr - 16 * v);
    for (int p = 0; p < kc; p++, b += ld, panel += NR)
        for (int v = 0; v < NV; v++)
            _mm512_store_ps(panel + 16 * v, _mm512_maskz_loadu_ps(mask[v], b + 16 * v));
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
            tile(R, kc, a, 1, a_ps, panel, c, ldc, mask);                       \
        else                                                                    \
            tile(R, kc, a, a_rs, a_ps, panel, c, ldc, mask);                    \
        break;

TARGET static void tile_any(int mr, int nr, int kc, const float *a,
                            ptrdiff_t a_rs, ptrdiff_t a_ps, const float *panel,
                            float *c, ptrdiff_t ldc)
{
    __mmask16 mask[NV];
    for (int v = 0; v < NV; v++)
        mask[v] = lanes(nr - 16 * v);
    switch (mr) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6)
    }
}

const pl_gemm_path pl_gemm_avx512 = {MR, NR, tile_any, pack_rows, pack_columns};

#else
/* Not built here: pl_isa_supported() never chooses this path. */
const pl_gemm_path pl_gemm_avx512 = {0, 0, NULL, NULL, NULL};
#endif
