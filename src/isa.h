/**
 * @file isa.h
 * @brief Which instruction set the matmul kernels run on.
 *
 * The kernels (gemm.h) exist as one portable C loop and as vector paths for
 * x86-64: AVX2 with FMA, and AVX-512. Every path computes every output with
 * the same fused multiply-adds in the same order, so all of them give the
 * same bits (chapter 00); the choice changes only the speed.
 *
 * By default the kernels use the best path this CPU supports (AVX2 rather
 * than AVX-512 for narrow products, pl_isa_for_columns). The environment
 * variable PL_ISA=scalar|avx2|avx512 forces one for a whole
 * process (to time a path, or to verify a run on the portable one); it is
 * read once, at the first kernel call. A value that is unknown, or names a
 * path this CPU (or this build) lacks, is ignored: the best path is used,
 * and pl_isa_active() says which one that is.
 *
 * Invariant: pl_isa_active() returns the same value for the whole life of a
 * process, whichever thread asks first.
 */
#ifndef PL_ISA_H
#define PL_ISA_H

/**
 * 1 where the x86-64 vector paths are compiled in: GCC or Clang targeting
 * x86-64. Elsewhere only the scalar path exists.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PL_ISA_X86 1
#else
#define PL_ISA_X86 0
#endif

/** A kernel path. Ordered from the most portable to the widest. */
typedef enum {
    PL_ISA_SCALAR = 0, /**< plain C with fmaf(): every CPU, every compiler */
    PL_ISA_AVX2 = 1,   /**< x86-64 AVX2 + FMA: 8 floats per instruction */
    PL_ISA_AVX512 = 2  /**< x86-64 AVX-512F: 16 floats per instruction */
} pl_isa;

/** The number of paths, for loops over every pl_isa. */
#define PL_ISA_COUNT 3

/** 1 if this CPU and this build can run `isa`; the scalar path always can. */
int pl_isa_supported(pl_isa isa);

/**
 * The path the kernels use in this process: PL_ISA when it names a supported
 * path, otherwise the widest supported one. Detected once, thread-safe.
 */
pl_isa pl_isa_active(void);

/**
 * Below this many output columns, AVX-512 is slower than AVX2: its register
 * tile is 64 columns wide, so a narrower product runs mostly masked-off
 * lanes, and packs a panel four times as wide as it uses. Measured on a
 * 2-core Xeon (AVX-512 time over AVX2's): 1.7-2.7x at 4 to 16 columns,
 * 1.0-1.4x at 32, 0.5-0.8x at 64 and above.
 */
#define PL_ISA_AVX512_MIN_COLUMNS 64

/**
 * The path for a product with n output columns: pl_isa_active(), except
 * that AVX2 runs what is narrower than PL_ISA_AVX512_MIN_COLUMNS when AVX-512
 * was chosen rather than forced by PL_ISA. Every path gives the same bits,
 * so this changes only the speed.
 */
pl_isa pl_isa_for_columns(int n);

/** The path's name: "scalar", "avx2" or "avx512". */
const char *pl_isa_name(pl_isa isa);

/** Parse a path name; returns 0, or -1 if unknown. */
int pl_isa_parse(const char *name, pl_isa *out);

#endif
