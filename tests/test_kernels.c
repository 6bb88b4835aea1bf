/*
 * test_kernels.c -- every kernel path gives the same bits.
 *
 * The scalar path (fmaf in plain C) defines the result; each vector path
 * this CPU supports must reproduce it bit for bit, on shapes that are not
 * multiples of any register or cache block. A row's output must not depend
 * on the rows that share its call, and weight gradients accumulated over
 * micro-batches must equal the whole batch's, on every path.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "gemm.h"
#include "isa.h"
#include "tensor.h"

static pl_tensor random_tensor(pl_rng *r, int rows, int cols)
{
    pl_tensor t = pl_tensor_new(rows, cols);
    cr_assert_not_null(t.data, "%d x %d", rows, cols);
    for (int i = 0; i < rows * cols; i++)
        t.data[i] = pl_rng_uniform(r, -1.0f, 1.0f);
    return t;
}

static pl_tensor clone(const pl_tensor *t)
{
    pl_tensor c = pl_tensor_new(t->rows, t->cols);
    cr_assert_not_null(c.data);
    pl_tensor_copy(&c, t);
    return c;
}

static int same_bits(const pl_tensor *a, const pl_tensor *b)
{
    return a->rows == b->rows && a->cols == b->cols &&
           memcmp(a->data, b->data, pl_tensor_bytes(a)) == 0;
}

/* One layer's operands and the three kernels' outputs on one path. */
typedef struct {
    pl_tensor x, w, b, dy;   /* inputs: (n, in), (in, out), (1, out), (n, out) */
    pl_tensor y, dx, dw, db; /* outputs: (n, out), (n, in), (in, out), (1, out) */
} layer;

static layer layer_random(uint64_t seed, int n, int in, int out)
{
    pl_rng r;
    pl_rng_seed(&r, seed);
    layer l = {random_tensor(&r, n, in), random_tensor(&r, in, out),
               random_tensor(&r, 1, out), random_tensor(&r, n, out),
               pl_tensor_new(n, out), pl_tensor_new(n, in),
               random_tensor(&r, in, out), random_tensor(&r, 1, out)};
    return l; /* dw, db start non-zero: the kernel continues a running sum */
}

static void layer_free(layer *l)
{
    pl_tensor *all[] = {&l->x, &l->w, &l->b, &l->dy, &l->y, &l->dx, &l->dw, &l->db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        pl_tensor_free(all[i]);
}

/* Run the three kernels of l on `isa`, into fresh outputs. */
static void run_all(pl_isa isa, const layer *l, pl_tensor *y, pl_tensor *dx,
                    pl_tensor *dw, pl_tensor *db)
{
    *y = pl_tensor_new(l->y.rows, l->y.cols);
    *dx = pl_tensor_new(l->dx.rows, l->dx.cols);
    *dw = clone(&l->dw);
    *db = clone(&l->db);
    cr_assert(y->data && dx->data);
    pl_tensor_forward_isa(isa, y, &l->x, &l->w, &l->b);
    pl_tensor_input_grad_isa(isa, dx, &l->dy, &l->w);
    pl_tensor_weight_grad_isa(isa, dw, db, &l->x, &l->dy);
}

/* Sizes that are multiples of no block (MR = 6 rows, NR = 16 or 64
 * columns, KC = 128 terms, 8 x 8 transposes), and a few that are. */
static const int SIZES[] = {1, 3, 7, 16, 17, 33, 100, 257, 300};
#define NSIZES (int)(sizeof SIZES / sizeof *SIZES)

Test(kernels, the_scalar_path_is_always_there)
{
    cr_expect(pl_isa_supported(PL_ISA_SCALAR));
    cr_expect(pl_isa_supported(pl_isa_active()), "the active path %s runs here",
              pl_isa_name(pl_isa_active()));
    for (int i = 0; i < PL_ISA_COUNT; i++) {
        pl_isa back;
        cr_expect_eq(pl_isa_parse(pl_isa_name((pl_isa)i), &back), 0);
        cr_expect_eq(back, (pl_isa)i);
    }
    pl_isa none;
    cr_expect_eq(pl_isa_parse("sse9", &none), -1);
}

Test(kernels, every_path_gives_the_scalar_bits, .timeout = 120)
{
    pl_rng pick;
    pl_rng_seed(&pick, 14);
    int vector_paths = 0;
    for (int isa = 1; isa < PL_ISA_COUNT; isa++)
        vector_paths += pl_isa_supported((pl_isa)isa);
    if (!vector_paths)
        fprintf(stderr, "no vector path on this CPU: the scalar path is all there is\n");
    for (int t = 0; t < 60; t++) {
        /* Every row count in turn, with random widths from the list. */
        int n = SIZES[t % NSIZES];
        int in = SIZES[pl_rng_next(&pick) % NSIZES];
        int out = SIZES[pl_rng_next(&pick) % NSIZES];
        layer l = layer_random((uint64_t)t + 1, n, in, out);
        pl_tensor y0, dx0, dw0, db0;
        run_all(PL_ISA_SCALAR, &l, &y0, &dx0, &dw0, &db0);
        for (int isa = 1; isa < PL_ISA_COUNT; isa++) {
            if (!pl_isa_supported((pl_isa)isa))
                continue;
            pl_tensor y, dx, dw, db;
            run_all((pl_isa)isa, &l, &y, &dx, &dw, &db);
            const char *name = pl_isa_name((pl_isa)isa);
            cr_expect(same_bits(&y, &y0), "forward %s n=%d in=%d out=%d", name, n, in, out);
            cr_expect(same_bits(&dx, &dx0), "input-grad %s n=%d in=%d out=%d", name, n, in, out);
            cr_expect(same_bits(&dw, &dw0), "weight-grad dw %s n=%d in=%d out=%d", name, n, in, out);
            cr_expect(same_bits(&db, &db0), "weight-grad db %s n=%d in=%d out=%d", name, n, in, out);
            pl_tensor_free(&y), pl_tensor_free(&dx), pl_tensor_free(&dw), pl_tensor_free(&db);
        }
        pl_tensor_free(&y0), pl_tensor_free(&dx0), pl_tensor_free(&dw0), pl_tensor_free(&db0);
        layer_free(&l);
    }
}

/* The primitive itself on strides no kernel uses (b neither row- nor
 * column-contiguous, a with both strides > 1): the generic packing. */
Test(kernels, gemm_on_any_strides_gives_the_scalar_bits)
{
    enum { M = 13, N = 70, K = 135 };
    pl_rng r;
    pl_rng_seed(&r, 5);
    pl_tensor a = random_tensor(&r, 2 * M, 3 * K), b = random_tensor(&r, 2 * K, 3 * N);
    pl_tensor start = random_tensor(&r, M, N);
    pl_tensor want = clone(&start), c = pl_tensor_new(M, N);
    pl_gemm g = {M, N, K, a.data, 6 * K, 3, b.data, 6 * N, 3, want.data, N};
    pl_gemm_run(PL_ISA_SCALAR, &g);
    g.c = c.data;
    for (int isa = 1; isa < PL_ISA_COUNT; isa++) {
        if (!pl_isa_supported((pl_isa)isa))
            continue;
        pl_tensor_copy(&c, &start);
        pl_gemm_run((pl_isa)isa, &g);
        cr_expect(same_bits(&c, &want), "%s", pl_isa_name((pl_isa)isa));
    }
    pl_tensor_free(&a), pl_tensor_free(&b), pl_tensor_free(&start);
    pl_tensor_free(&want), pl_tensor_free(&c);
}

/* Row by row, then all rows at once: forward and input-grad give the same
 * bits; weight-grad, fed the rows one micro-batch at a time in order, ends
 * with the same running sums as when it sees them all in one call. */
Test(kernels, a_row_does_not_depend_on_its_neighbours, .timeout = 60)
{
    const int n = 37, in = 45, out = 70;
    layer l = layer_random(3, n, in, out);
    for (int isa = 0; isa < PL_ISA_COUNT; isa++) {
        if (!pl_isa_supported((pl_isa)isa))
            continue;
        const char *name = pl_isa_name((pl_isa)isa);
        pl_tensor y, dx, dw, db;
        run_all((pl_isa)isa, &l, &y, &dx, &dw, &db);
        pl_tensor dw_parts = clone(&l.dw), db_parts = clone(&l.db);
        /* Micro-batches of 1, 2, 3, ... rows, in increasing order. */
        for (int start = 0, rows = 1; start < n; start += rows, rows++) {
            if (rows > n - start)
                rows = n - start;
            pl_tensor x = pl_tensor_rows(&l.x, start, rows);
            pl_tensor dy = pl_tensor_rows(&l.dy, start, rows);
            pl_tensor y1 = pl_tensor_new(rows, out), dx1 = pl_tensor_new(rows, in);
            pl_tensor_forward_isa((pl_isa)isa, &y1, &x, &l.w, &l.b);
            pl_tensor_input_grad_isa((pl_isa)isa, &dx1, &dy, &l.w);
            pl_tensor_weight_grad_isa((pl_isa)isa, &dw_parts, &db_parts, &x, &dy);
            pl_tensor y_all = pl_tensor_rows(&y, start, rows);
            pl_tensor dx_all = pl_tensor_rows(&dx, start, rows);
            cr_expect(same_bits(&y1, &y_all), "forward %s rows %d+%d", name, start, rows);
            cr_expect(same_bits(&dx1, &dx_all), "input-grad %s rows %d+%d", name, start, rows);
            pl_tensor_free(&y1), pl_tensor_free(&dx1);
        }
        cr_expect(same_bits(&dw_parts, &dw), "weight-grad %s: micro-batches = whole batch", name);
        cr_expect(same_bits(&db_parts, &db), "bias-grad %s: micro-batches = whole batch", name);
        pl_tensor_free(&dw_parts), pl_tensor_free(&db_parts);
        pl_tensor_free(&y), pl_tensor_free(&dx), pl_tensor_free(&dw), pl_tensor_free(&db);
    }
    layer_free(&l);
}

/* 1 + e with e = 2^-12: (1 + e)^2 = 1 + 2e + e^2 needs 25 bits. Rounded
 * first (a multiply, then an add) the e^2 = 2^-24 is lost and b + x w is 0;
 * fused, it survives. Every path must fuse, on every output lane. */
Test(kernels, multiply_add_is_fused_on_every_path)
{
    const float e = 1.0f / 4096.0f;
    const int out = 35; /* full vectors and a masked tail on every path */
    pl_tensor x = pl_tensor_new(1, 1), w = pl_tensor_new(1, out);
    pl_tensor b = pl_tensor_new(1, out), y = pl_tensor_new(1, out);
    x.data[0] = 1.0f + e;
    for (int j = 0; j < out; j++) {
        w.data[j] = 1.0f + e;
        b.data[j] = -(1.0f + 2.0f * e);
    }
    for (int isa = 0; isa < PL_ISA_COUNT; isa++) {
        if (!pl_isa_supported((pl_isa)isa))
            continue;
        pl_tensor_forward_isa((pl_isa)isa, &y, &x, &w, &b);
        for (int j = 0; j < out; j++)
            cr_expect_eq(y.data[j], e * e, "%s lane %d: %g, fused gives 2^-24",
                         pl_isa_name((pl_isa)isa), j, (double)y.data[j]);
    }
    pl_tensor_free(&x), pl_tensor_free(&w), pl_tensor_free(&b), pl_tensor_free(&y);
}

/* Device threads call the kernels at the same time, and one of them is the
 * first to ask which path to use. */
typedef struct {
    const layer *l;
    pl_tensor y;
} job;

static void *forward_job(void *arg)
{
    job *j = arg;
    pl_tensor_forward(&j->y, &j->l->x, &j->l->w, &j->l->b);
    return NULL;
}

Test(kernels, threads_share_the_kernels, .timeout = 30)
{
    enum { THREADS = 4 };
    layer l = layer_random(9, 50, 40, 60);
    job jobs[THREADS];
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){&l, pl_tensor_new(50, 60)};
        cr_assert_not_null(jobs[t].y.data);
        cr_assert_eq(pthread_create(&tid[t], NULL, forward_job, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    pl_tensor_forward_isa(PL_ISA_SCALAR, &l.y, &l.x, &l.w, &l.b);
    for (int t = 0; t < THREADS; t++) {
        cr_expect(same_bits(&jobs[t].y, &l.y), "thread %d", t);
        pl_tensor_free(&jobs[t].y);
    }
    layer_free(&l);
}

/* A narrow product runs on AVX2 even where AVX-512 is the chosen path
 * (isa.h: the wide tile is slower there), and on exactly what PL_ISA names
 * when it is forced. Each test is its own process, so each detects anew. */
Test(kernels, narrow_products_run_on_avx2_unless_avx512_is_forced)
{
    if (!pl_isa_supported(PL_ISA_AVX512))
        cr_skip_test("this CPU has no AVX-512");
    unsetenv("PL_ISA");
    cr_assert_eq(pl_isa_active(), PL_ISA_AVX512);
    cr_expect_eq(pl_isa_for_columns(1), PL_ISA_AVX2);
    cr_expect_eq(pl_isa_for_columns(PL_ISA_AVX512_MIN_COLUMNS - 1), PL_ISA_AVX2);
    cr_expect_eq(pl_isa_for_columns(PL_ISA_AVX512_MIN_COLUMNS), PL_ISA_AVX512);
    cr_expect_eq(pl_isa_for_columns(512), PL_ISA_AVX512);
}

Test(kernels, a_forced_path_runs_every_product)
{
    if (!pl_isa_supported(PL_ISA_AVX512))
        cr_skip_test("this CPU has no AVX-512");
    setenv("PL_ISA", "avx512", 1);
    cr_expect_eq(pl_isa_for_columns(1), PL_ISA_AVX512);
    cr_expect_eq(pl_isa_for_columns(512), PL_ISA_AVX512);
}

Test(kernels, below_avx512_the_chosen_path_runs_every_product)
{
    setenv("PL_ISA", "avx2", 1);
    pl_isa want = pl_isa_supported(PL_ISA_AVX2) ? PL_ISA_AVX2 : pl_isa_active();
    cr_expect_eq(pl_isa_for_columns(1), want);
    cr_expect_eq(pl_isa_for_columns(512), want);
}
