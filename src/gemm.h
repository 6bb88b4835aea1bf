/**
 * @file gemm.h
 * @brief The one matrix product behind every kernel: c += a b, in a fixed order.
 *
 * The three kernels of a Linear layer (tensor.h) are all this primitive on
 * different views of their tensors: forward is y += x w after y = b,
 * input-grad is dx += dy w^T after dx = 0, weight-grad is dw += x^T dy.
 * Chapter 00 explains why it is written by hand and not taken from a BLAS.
 *
 * Invariant -- the one every path keeps, and what makes a pipeline's weights
 * bitwise equal to the reference's: each output c[r][j] is updated as
 *
 *     c[r][j] = fma(a[r][p], b[p][j], c[r][j])   for p = 0, 1, ..., k-1
 *
 * one correctly rounded fused multiply-add per term, in increasing p, and
 * nothing else. The order does not depend on m, n, k, the blocking or the
 * instruction set, and row r of c reads only row r of a; so a row gives the
 * same bits in any call, and a later call that continues the sum (a later
 * micro-batch) continues the same chain. Single-threaded; c must not alias
 * a or b.
 */
#ifndef PL_GEMM_H
#define PL_GEMM_H

#include <stddef.h>

#include "isa.h"

/**
 * c (m, n) += a (m, k) b (k, n), as strided views into row-major storage:
 * a[r][p] is a[r*a_rs + p*a_ps], b[p][j] is b[p*b_ps + j*b_js] and c[r][j]
 * is c[r*ldc + j]. Strides let one primitive read x, x^T, w and w^T in place.
 */
typedef struct {
    int m;           /**< rows of c */
    int n;           /**< columns of c */
    int k;           /**< terms in each output's sum */
    const float *a;  /**< (m, k) */
    ptrdiff_t a_rs;  /**< a's stride between rows r */
    ptrdiff_t a_ps;  /**< a's stride between terms p */
    const float *b;  /**< (k, n) */
    ptrdiff_t b_ps;  /**< b's stride between terms p */
    ptrdiff_t b_js;  /**< b's stride between columns j */
    float *c;        /**< (m, n), accumulated into */
    ptrdiff_t ldc;   /**< c's stride between rows */
} pl_gemm;

/**
 * Run g on the path `isa`. A path this CPU cannot run falls back to the
 * portable one, which gives the same bits. Allocates nothing.
 */
void pl_gemm_run(pl_isa isa, const pl_gemm *g);

/**
 * One register tile of a vector path: c (mr, nr) += a (mr, kc) panel (kc, NR),
 * with mr <= MR and nr <= NR of the path. `panel` holds kc rows of NR floats,
 * contiguous, 64-byte aligned, zero beyond column nr.
 */
typedef void (*pl_gemm_tile_fn)(int mr, int nr, int kc, const float *a,
                                ptrdiff_t a_rs, ptrdiff_t a_ps,
                                const float *panel, float *c, ptrdiff_t ldc);

/**
 * Copy a block of b into a panel (kc, NR) for the microkernel: panel[p][j] =
 * b[p*ld + j] (pack_rows: b's rows are contiguous) or b[p + j*ld]
 * (pack_columns: b is a transposed view, its columns are contiguous), for
 * p < kc and j < nr, and zero for nr <= j < NR. `panel` is 64-byte aligned.
 */
typedef void (*pl_gemm_pack_fn)(float *panel, const float *b, ptrdiff_t ld,
                                int kc, int nr);

/** A vector path: its register tile, the tile's shape, its packing. */
typedef struct {
    int mr;                       /**< rows of c held in registers (MR) */
    int nr;                       /**< columns of c held in registers (NR) */
    pl_gemm_tile_fn tile;         /**< the microkernel */
    pl_gemm_pack_fn pack_rows;    /**< panel from b with b_js == 1 */
    pl_gemm_pack_fn pack_columns; /**< panel from b with b_ps == 1 */
} pl_gemm_path;

/**
 * pack_columns for any NR that is a multiple of 8, in 8 x 8 transposes
 * (gemm_avx2.c; every AVX-512 CPU also runs AVX2). `nr_pad` is the NR.
 */
void pl_gemm_avx2_pack_columns(float *panel, int nr_pad, const float *b,
                               ptrdiff_t ld, int kc, int nr);

/**
 * Unroll the next loop completely (its trip count is a constant). The
 * microkernels' tiles live in arrays indexed by row; only once the row loops
 * are unrolled can the compiler keep every element in a register.
 */
#if defined(__clang__)
#define PL_GEMM_UNROLL _Pragma("clang loop unroll(full)")
#else
#define PL_GEMM_UNROLL _Pragma("GCC unroll 16")
#endif

/** The AVX2 + FMA path (gemm_avx2.c); all zero where PL_ISA_X86 is 0. */
extern const pl_gemm_path pl_gemm_avx2;

/** The AVX-512 path (gemm_avx512.c); all zero where PL_ISA_X86 is 0. */
extern const pl_gemm_path pl_gemm_avx512;

#endif
