/*
 * gemm_avx2.c -- the AVX2 + FMA microkernel of gemm.c.
 *
 * The same tile as gemm_avx512.c with half the lanes and half the
 * registers: up to 6 rows x 16 columns of c in 12 of the 16 ymm registers.
 * For each term p, two vectors of b are loaded and each row's a[r][p]
 * broadcast; lane j of row r only ever computes c[r][j], one fma per term,
 * so the bits equal gemm_reference()'s. Columns beyond nr are masked.
 */
#include "gemm.h"

#if PL_ISA_X86
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE TARGET __attribute__((always_inline)) static inline

/* MR rows x NV vectors of 8 floats: the tile, NR = 16 columns. */
enum { MR = 6, NV = 2, NR = 8 * NV };

/* A load/store mask: all bits set in the lanes that hold columns of c,
 * the first `cols` of 8. */
INLINE __m256i lanes(int cols)
{
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), index);
}

/* c (mr, 16) += a (mr, kc) panel (kc, 16): gemm_avx512.c's tile() with
 * 8-lane vectors; mr is a constant in every copy. */
INLINE void tile(const int mr, int kc, const float *a, ptrdiff_t a_rs,
                 ptrdiff_t a_ps, const float *panel, float *c, ptrdiff_t ldc,
                 const __m256i *mask)
{
    __m256 acc[MR][NV]; /* acc[r][v]: c[r][8v .. 8v+7] */
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++)
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm256_maskload_ps(c + r * ldc + 8 * v, mask[v]);
    for (int p = 0; p < kc; p++, a += a_ps, panel += NR) {
        __m256 b[NV];
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            b[v] = _mm256_load_ps(panel + 8 * v);
        PL_GEMM_UNROLL
        for (int r = 0; r < mr; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + r * a_rs);
            PL_GEMM_UNROLL
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm256_fmadd_ps(ar, b[v], acc[r][v]);
        }
    }
    PL_GEMM_UNROLL
    for (int r = 0; r < mr; r++)
        PL_GEMM_UNROLL
        for (int v = 0; v < NV; v++)
            _mm256_maskstore_ps(c + r * ldc + 8 * v, mask[v], acc[r][v]);
}

/* panel (kc, 16) = rows of b (masked past nr: the lanes load as zero). */
TARGET static void pack_rows(float *panel, const float *b, ptrdiff_t ld, int kc, int nr)
{
    __m256i mask[NV];
    for (int v = 0; v < NV; v++)
        mask[v] = lanes(nr - 8 * v);
    for (int p = 0; p < kc; p++, b += ld, panel += NR)
        for (int v = 0; v < NV; v++)
            _mm256_store_ps(panel + 8 * v, _mm256_maskload_ps(b + 8 * v, mask[v]));
}

/* dst[i][j] = src[j][i] for an 8 x 8 block: unpack pairs, then quads, then
 * swap 128-bit halves. Pure data movement, no arithmetic. */
INLINE void transpose8(float *dst, ptrdiff_t dst_ld, const float *src, ptrdiff_t src_ld)
{
    __m256 r[8], t[8], u[8];
    PL_GEMM_UNROLL
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * src_ld);
    PL_GEMM_UNROLL
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    PL_GEMM_UNROLL
    for (int i = 0; i < 8; i += 4)
        PL_GEMM_UNROLL
        for (int h = 0; h < 2; h++) {
            u[i + 2 * h] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 2 * h + 1] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(3, 2, 3, 2));
        }
    PL_GEMM_UNROLL
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * dst_ld, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * dst_ld, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

TARGET void pl_gemm_avx2_pack_columns(float *panel, int nr_pad, const float *b,
                                      ptrdiff_t ld, int kc, int nr)
{
    int kc8 = kc & ~7, nr8 = nr & ~7;
    for (int j = 0; j < nr8; j += 8)
        for (int p = 0; p < kc8; p += 8)
            transpose8(panel + p * nr_pad + j, nr_pad, b + p + j * ld, ld);
    /* What the 8 x 8 blocks left: the last kc % 8 rows, the last nr % 8
     * columns, and the zeros past nr -- written a vector at a time first
     * (from nr8, a multiple of 8 into an aligned row), so that a narrow
     * matrix costs a few stores per row, not a branch per lane. */
    for (int p = 0; p < kc; p++) {
        float *row = panel + p * nr_pad;
        for (int j = nr8; j < nr_pad; j += 8)
            _mm256_store_ps(row + j, _mm256_setzero_ps());
        for (int j = p < kc8 ? nr8 : 0; j < nr; j++)
            row[j] = b[p + j * ld];
    }
}

TARGET static void pack_columns(float *panel, const float *b, ptrdiff_t ld, int kc, int nr)
{
    pl_gemm_avx2_pack_columns(panel, NR, b, ld, kc, nr);
}

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
    __m256i mask[NV];
    for (int v = 0; v < NV; v++)
        mask[v] = lanes(nr - 8 * v);
    switch (mr) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6)
    }
}

const pl_gemm_path pl_gemm_avx2 = {MR, NR, tile_any, pack_rows, pack_columns};

#else
/* Not built here: pl_isa_supported() never chooses this path. */
const pl_gemm_path pl_gemm_avx2 = {0, 0, NULL, NULL, NULL};
#endif
