/*
 * gemm.c -- c += a b with one fused multiply-add per term, in a fixed order.
 *
 * Two ways to run the same arithmetic. The portable loop below is the
 * definition: for each output, terms p = 0, 1, ... one fmaf() at a time. The
 * vector paths do exactly those operations, only many outputs at once: a
 * microkernel keeps an MR x NR tile of c in registers and, for each p in
 * turn, multiplies one element of a (the same for a whole row of the tile)
 * by a vector of NR elements of b -- the vector runs across *outputs*,
 * never across the sum. The blocking here only decides which outputs sit in
 * registers together and how often a partial sum goes back to memory (as a
 * float, exactly what the register held), so it cannot change a single bit.
 *
 * Why fused multiply-add everywhere, rather than none: a vector unit's peak
 * is one FMA per lane per cycle; a separate multiply and add take two
 * instructions, half the speed. Fusing is only safe if *every* path fuses
 * the same operations, so the scalar path calls fmaf() (correctly rounded,
 * like the vector instruction) and the build keeps -ffp-contract=off so the
 * compiler fuses nothing else on its own.
 */
#include "gemm.h"

#include <math.h>

// [region gemm-reference]
/* The portable path, and the definition of every other: each c[r][j] adds
 * its terms p = 0, 1, ..., k-1 in that order, one fused multiply-add each. */
static void gemm_reference(const pl_gemm *g)
{
    for (int r = 0; r < g->m; r++) {
        float *c = g->c + r * g->ldc;
        for (int p = 0; p < g->k; p++) {
            const float a = g->a[r * g->a_rs + p * g->a_ps];
            const float *b = g->b + p * g->b_ps;
            for (int j = 0; j < g->n; j++)
                c[j] = fmaf(a, b[j * g->b_js], c[j]);
        }
    }
}
// [endregion gemm-reference]

/* Cache blocking. A panel of KC terms x NR columns of b (32 KiB for
 * AVX-512) is copied into contiguous memory once and stays in the L1 cache
 * while every row tile of c streams past it. Partial sums go back to c
 * between panels; the next panel continues them at term p0 + KC. */
enum { KC = 128, NR_MAX = 64 };

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

/* panel (kc, nr_pad) = b[p0 .. p0+kc)[j0 .. j0+nr), zero beyond column nr:
 * contiguous rows for the microkernel, whatever b's strides. This is also
 * all the transposing input-grad needs: w^T is read straight from w. The
 * two common layouts have vector versions; any other is copied here. */
static void pack_panel(const pl_gemm_path *path, float *panel, const pl_gemm *g,
                       int p0, int kc, int j0, int nr)
{
    const float *b = g->b + p0 * g->b_ps + j0 * g->b_js;
    if (g->b_js == 1) {
        path->pack_rows(panel, b, g->b_ps, kc, nr);
    } else if (g->b_ps == 1) {
        path->pack_columns(panel, b, g->b_js, kc, nr);
    } else {
        for (int p = 0; p < kc; p++)
            for (int j = 0; j < path->nr; j++)
                panel[p * path->nr + j] = j < nr ? b[p * g->b_ps + j * g->b_js] : 0.0f;
    }
}

/* Columns of NR, then panels of KC terms in increasing order, then row
 * tiles of MR: each output's terms still arrive p = 0, 1, ... */
static void gemm_blocked(const pl_gemm_path *path, const pl_gemm *g)
{
    _Alignas(64) float panel[KC * NR_MAX];
    for (int j0 = 0; j0 < g->n; j0 += path->nr) {
        int nr = min_int(path->nr, g->n - j0);
        for (int p0 = 0; p0 < g->k; p0 += KC) {
            int kc = min_int(KC, g->k - p0);
            pack_panel(path, panel, g, p0, kc, j0, nr);
            for (int r0 = 0; r0 < g->m; r0 += path->mr)
                path->tile(min_int(path->mr, g->m - r0), nr, kc,
                           g->a + r0 * g->a_rs + p0 * g->a_ps, g->a_rs, g->a_ps,
                           panel, g->c + r0 * g->ldc + j0, g->ldc);
        }
    }
}

void pl_gemm_run(pl_isa isa, const pl_gemm *g)
{
    static const pl_gemm_path *const paths[PL_ISA_COUNT] = {
        NULL, &pl_gemm_avx2, &pl_gemm_avx512};
    if (g->m <= 0 || g->n <= 0 || g->k <= 0)
        return;
    if (isa == PL_ISA_SCALAR || !pl_isa_supported(isa))
        gemm_reference(g);
    else
        gemm_blocked(paths[isa], g);
}
