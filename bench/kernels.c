/*
 * kernels -- pipelab's three matmul kernels beside OpenBLAS, same run.
 *
 * Each kernel is timed against the single-threaded OpenBLAS sgemm that
 * computes the same product (forward NN, input-grad NT, weight-grad TN with
 * beta = 1) on the same shapes, default n = 256 rows, in = out = 512.
 * The machine may be shared and noisy, so the two are measured as A/B
 * pairs, alternating which goes first, and every figure is printed as
 * min / median / max over the pairs. The verdict compares the median of the
 * per-pair ratios with the target: each kernel at >= 50 % of sgemm.
 *
 * It also shows, in bits, why pipelab cannot use the BLAS: whether a row
 * computed alone equals the same row computed inside the batch, and whether
 * dw accumulated over micro-batches equals dw from the whole batch.
 *
 *   build/bench/kernels [n in out [pairs]]
 *   PL_ISA=avx2 build/bench/kernels     (another path; see src/isa.h)
 *
 * OpenBLAS runs one thread (OPENBLAS_NUM_THREADS=1) with its best kernel
 * for the instructions pipelab's path uses; see pick_openblas_kernel().
 *
 * Wall-clock figures are reported, never asserted.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "rng.h"
#include "isa.h"
#include "tensor.h"

#define TARGET_RATIO 0.5
#define CALLS 4 /* kernel calls per timed sample: a sample is ~5 ms at the default shape */

/* The operands of one layer, filled with uniform values in [-1, 1). */
typedef struct {
    int n, in, out;
    pl_tensor x, w, b, y, dy, dx, dw, db;
} layer;

typedef enum { FORWARD, INPUT_GRAD, WEIGHT_GRAD } kernel;
static const char *kernel_names[] = {"forward", "input-grad", "weight-grad"};

static void fill(pl_tensor *t, pl_rng *r)
{
    for (size_t i = 0; i < (size_t)t->rows * (size_t)t->cols; i++)
        t->data[i] = pl_rng_uniform(r, -1.0f, 1.0f);
}

static int layer_new(layer *l, int n, int in, int out)
{
    pl_rng r;
    pl_rng_seed(&r, 1);
    *l = (layer){n, in, out, pl_tensor_new(n, in), pl_tensor_new(in, out),
                 pl_tensor_new(1, out), pl_tensor_new(n, out), pl_tensor_new(n, out),
                 pl_tensor_new(n, in), pl_tensor_new(in, out), pl_tensor_new(1, out)};
    pl_tensor *all[] = {&l->x, &l->w, &l->b, &l->y, &l->dy, &l->dx, &l->dw, &l->db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (!all[i]->data)
            return -1;
        fill(all[i], &r);
    }
    return 0;
}

static void layer_free(layer *l)
{
    pl_tensor *all[] = {&l->x, &l->w, &l->b, &l->y, &l->dy, &l->dx, &l->dw, &l->db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        pl_tensor_free(all[i]);
}

static void run_pipelab(layer *l, kernel k)
{
    if (k == FORWARD)
        pl_tensor_forward(&l->y, &l->x, &l->w, &l->b);
    else if (k == INPUT_GRAD)
        pl_tensor_input_grad(&l->dx, &l->dy, &l->w);
    else
        pl_tensor_weight_grad(&l->dw, &l->db, &l->x, &l->dy);
}

/* The same product by OpenBLAS, row-major: y = x w, dx = dy w^T, dw += x^T dy. */
static void run_blas(layer *l, kernel k)
{
    if (k == FORWARD)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->n, l->out, l->in,
                    1.0f, l->x.data, l->in, l->w.data, l->out, 0.0f, l->y.data, l->out);
    else if (k == INPUT_GRAD)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->n, l->in, l->out,
                    1.0f, l->dy.data, l->out, l->w.data, l->out, 0.0f, l->dx.data, l->in);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->in, l->out, l->n,
                    1.0f, l->x.data, l->in, l->dy.data, l->out, 1.0f, l->dw.data, l->out);
}

/* GFLOP/s of one sample: CALLS calls in a row. */
static double sample(layer *l, kernel k, int blas)
{
    int64_t t0 = pl_clock_host_ns();
    for (int c = 0; c < CALLS; c++)
        blas ? run_blas(l, k) : run_pipelab(l, k);
    double s = (double)(pl_clock_host_ns() - t0) / 1e9;
    return 2.0 * l->n * l->in * l->out * CALLS / s / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v; returns its median. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Alternating A/B pairs of one kernel; prints a row, returns 1 if it meets the target. */
static int compare(layer *l, kernel k, int pairs)
{
    double pl[pairs], blas[pairs], ratio[pairs];
    sample(l, k, 0), sample(l, k, 1); /* warm caches, pages and OpenBLAS's buffers */
    for (int i = 0; i < pairs; i++) {
        if (i % 2 == 0) {
            pl[i] = sample(l, k, 0);
            blas[i] = sample(l, k, 1);
        } else {
            blas[i] = sample(l, k, 1);
            pl[i] = sample(l, k, 0);
        }
        ratio[i] = pl[i] / blas[i];
    }
    double r = median(ratio, pairs), mp = median(pl, pairs), mb = median(blas, pairs);
    printf("  %-12s %6.1f %6.1f %6.1f   %6.1f %6.1f %6.1f   %5.2f  (%.2f-%.2f)  %s\n",
           kernel_names[k], pl[0], mp, pl[pairs - 1], blas[0], mb, blas[pairs - 1], r,
           ratio[0], ratio[pairs - 1], r >= TARGET_RATIO ? "PASS" : "MISS");
    return r >= TARGET_RATIO;
}

/* y = x w + b on rows [start, start+rows) of x into y (rows, out). */
static void forward_rows(layer *l, int blas, pl_tensor *y, int start, int rows)
{
    pl_tensor x = pl_tensor_rows(&l->x, start, rows);
    if (blas)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, l->out, l->in, 1.0f,
                    x.data, l->in, l->w.data, l->out, 0.0f, y->data, l->out);
    else
        pl_tensor_forward(y, &x, &l->w, &l->b);
}

/* dw += x^T dy over rows [start, start+rows). */
static void weight_grad_rows(layer *l, int blas, pl_tensor *dw, int start, int rows)
{
    pl_tensor x = pl_tensor_rows(&l->x, start, rows), dy = pl_tensor_rows(&l->dy, start, rows);
    if (blas)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->in, l->out, rows, 1.0f,
                    x.data, l->in, dy.data, l->out, 1.0f, dw->data, l->out);
    else
        pl_tensor_weight_grad(dw, &l->db, &x, &dy);
}

/* Elements of a and b whose bits differ. */
static long differ(const pl_tensor *a, const pl_tensor *b)
{
    long d = 0;
    for (size_t i = 0; i < (size_t)a->rows * (size_t)a->cols; i++)
        d += memcmp(&a->data[i], &b->data[i], sizeof(float)) != 0;
    return d;
}

/* A 64-bit FNV-1a hash of t's bytes: equal bits, equal hash. */
static unsigned long long hash(const pl_tensor *t)
{
    unsigned long long h = 14695981039346656037ULL;
    const unsigned char *b = (const unsigned char *)t->data;
    for (size_t i = 0; i < pl_tensor_bytes(t); i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* Why pipelab cannot use a BLAS, in bits: row 0 of y computed alone vs
 * inside the whole batch, and dw accumulated over micro-batches of 64 rows
 * vs from the whole batch in one call. The hash of y tells runs on other
 * paths (PL_ISA) or other OpenBLAS kernels (OPENBLAS_CORETYPE) apart. */
static void bits(layer *l)
{
    int mb = l->n < 64 ? l->n : 64;
    pl_tensor row = pl_tensor_new(1, l->out), dw_whole = pl_tensor_new(l->in, l->out);
    pl_tensor dw_micro = pl_tensor_new(l->in, l->out);
    printf("\n  %-10s  %-16s  %-26s  dw over micro-batches of %d rows = whole batch\n",
           "bits", "hash of y", "row 0 alone = in the batch", mb);
    for (int blas = 0; blas < 2 && row.data && dw_whole.data && dw_micro.data; blas++) {
        pl_tensor_zero(&dw_whole), pl_tensor_zero(&dw_micro);
        forward_rows(l, blas, &l->y, 0, l->n);
        forward_rows(l, blas, &row, 0, 1);
        pl_tensor row0 = pl_tensor_rows(&l->y, 0, 1);
        weight_grad_rows(l, blas, &dw_whole, 0, l->n);
        for (int start = 0; start < l->n; start += mb)
            weight_grad_rows(l, blas, &dw_micro, start, l->n - start < mb ? l->n - start : mb);
        long r = differ(&row, &row0), w = differ(&dw_whole, &dw_micro);
        printf("  %-10s  %016llx  %-26s  %s (%ld of %d elements differ)\n",
               blas ? "OpenBLAS" : "pipelab", hash(&l->y), r ? "no" : "yes", w ? "no" : "yes",
               w, l->in * l->out);
    }
    pl_tensor_free(&row), pl_tensor_free(&dw_whole), pl_tensor_free(&dw_micro);
}

/* OpenBLAS chooses its kernel from its own table of CPUs when the library
 * loads, and a release older than the CPU falls back to a generic one
 * (0.3.21, Debian 12, runs a 2023 Xeon with its SSE3 "Prescott" kernel, a
 * fifth of its speed). To compare with its best kernel for the instructions
 * pipelab's path uses, name the core type -- SkylakeX for AVX-512, Haswell
 * for AVX2 -- and one thread, and start again. A core type already in the
 * environment is respected. */
static void pick_openblas_kernel(char **argv)
{
    pl_isa isa = pl_isa_active();
    const char *core = isa == PL_ISA_AVX512 ? "SkylakeX" : isa == PL_ISA_AVX2 ? "Haswell" : NULL;
    if (getenv("OPENBLAS_CORETYPE") || !core)
        return;
    setenv("PL_OPENBLAS_OWN_CHOICE", openblas_get_corename(), 1);
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
    /* No exec: carry on with OpenBLAS's own choice, which is printed. */
}

int main(int argc, char **argv)
{
    pick_openblas_kernel(argv);
    int n = 256, in = 512, out = 512, pairs = 15;
    if (argc >= 4) {
        n = atoi(argv[1]), in = atoi(argv[2]), out = atoi(argv[3]);
        pairs = argc >= 5 ? atoi(argv[4]) : pairs;
    }
    if (n < 1 || in < 1 || out < 1 || pairs < 1) {
        fprintf(stderr, "usage: kernels [n in out [pairs]] (all positive)\n");
        return 2;
    }
    openblas_set_num_threads(1);
    layer l;
    if (layer_new(&l, n, in, out)) {
        fprintf(stderr, "kernels: out of memory\n");
        layer_free(&l);
        return 1;
    }
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("kernels: n = %d rows, in = %d, out = %d; one thread each; %d A/B pairs of %d calls\n",
           n, in, out, pairs, CALLS);
    const char *own = getenv("PL_OPENBLAS_OWN_CHOICE");
    printf("pipelab path %s; OpenBLAS kernel %s%s%s%s, 1 thread; load average %.2f (1 min)\n",
           pl_isa_name(pl_isa_active()), openblas_get_corename(),
           own ? " (OPENBLAS_CORETYPE; its own choice: " : "", own ? own : "", own ? ")" : "",
           load[0]);
    printf("\n  %-12s %-20s   %-20s   %s\n", "GFLOP/s", "pipelab min/med/max",
           "OpenBLAS min/med/max", "ratio (median of pairs, range), target >= 0.50");
    int ok = 0;
    for (int k = FORWARD; k <= WEIGHT_GRAD; k++)
        ok += compare(&l, (kernel)k, pairs);
    bits(&l);
    printf("\n%d of 3 kernels at >= %.0f%% of OpenBLAS sgemm\n", ok, TARGET_RATIO * 100);
    layer_free(&l);
    return 0;
}
