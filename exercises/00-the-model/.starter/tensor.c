/*
 * tensor.c -- dense float32 matrices and the kernels of one Linear layer.
 *
 * EXERCISE 00: write the forward and the input-grad kernel (search for
 * TODO). `make exercise-ch00` grades this file.
 *
 * Every sum below runs in one fixed order and on one thread. Floating-point
 * addition is not associative, so the order *is* the result: keeping it fixed
 * is what makes a pipeline's weights bitwise equal to the reference's.
 * The three matrix products are one primitive, pl_gemm_run (gemm.c), which
 * keeps that order on every instruction set; here each product only says
 * where its sum starts and which views of its tensors to multiply.
 */
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

#include "gemm.h"

pl_tensor pl_tensor_new(int rows, int cols)
{
    pl_tensor t = pl_tensor_empty(rows, cols);
    if (t.data)
        memset(t.data, 0, pl_tensor_bytes(&t));
    return t;
}

pl_tensor pl_tensor_empty(int rows, int cols)
{
    pl_tensor t = {0, 0, NULL};
    if (rows <= 0 || cols <= 0)
        return t;
    t.data = malloc((size_t)rows * (size_t)cols * sizeof *t.data);
    if (t.data) {
        t.rows = rows;
        t.cols = cols;
    }
    return t;
}

void pl_tensor_free(pl_tensor *t)
{
    free(t->data);
    t->data = NULL;
    t->rows = t->cols = 0;
}

size_t pl_tensor_bytes(const pl_tensor *t)
{
    /* A view or a freed tensor may keep a shape but hold nothing. */
    if (!t->data)
        return 0;
    return (size_t)t->rows * (size_t)t->cols * sizeof *t->data;
}

void pl_tensor_zero(pl_tensor *t)
{
    if (t->data)
        memset(t->data, 0, pl_tensor_bytes(t));
}

void pl_tensor_copy(pl_tensor *dst, const pl_tensor *src)
{
    memcpy(dst->data, src->data, pl_tensor_bytes(src));
}

int pl_tensor_dup(pl_tensor *dst, const pl_tensor *src)
{
    *dst = pl_tensor_new(src->rows, src->cols);
    if (!dst->data)
        return -1;
    pl_tensor_copy(dst, src);
    return 0;
}

pl_tensor pl_tensor_rows(const pl_tensor *t, int start, int rows)
{
    pl_tensor v = {rows, t->cols, t->data + (size_t)start * (size_t)t->cols};
    return v;
}

/* y (n, out) = b (1, out) + x (n, in) w (in, out).
 *
 * TODO(ch00): one pl_gemm, as pl_tensor_weight_grad_isa below does it for
 * dw += x^T dy: say where each sum starts, then describe x and w as strided
 * views and call pl_gemm_run(isa, &g). gemm.h says what every field means.
 * Whatever y holds on entry must not matter. */
void pl_tensor_forward_isa(pl_isa isa, pl_tensor *y, const pl_tensor *x,
                           const pl_tensor *w, const pl_tensor *b)
{
    (void)isa, (void)y, (void)x, (void)w, (void)b;
}

/* dx (n, in) = dy (n, out) w^T, where w is (in, out).
 *
 * TODO(ch00): one pl_gemm again. w^T is never built: read w in place with
 * the right strides. Whatever dx holds on entry must not matter. */
void pl_tensor_input_grad_isa(pl_isa isa, pl_tensor *dx, const pl_tensor *dy,
                              const pl_tensor *w)
{
    (void)isa, (void)dx, (void)dy, (void)w;
}

/* dw (in, out) += x (n, in)^T dy (n, out); db (1, out) += column sums of dy.
 * dw[k][j] is one running sum over rows i = 0, 1, ... (a[k][i] = x[i][k]:
 * strides 1 and in). Rows of later micro-batches simply continue the same
 * running sum, which is why gradient accumulation must visit micro-batches
 * in one agreed order (increasing). db is the same product with x replaced
 * by a column of ones (strides 0): fma(1, dy, db) rounds exactly as db + dy. */
void pl_tensor_weight_grad_isa(pl_isa isa, pl_tensor *dw, pl_tensor *db,
                               const pl_tensor *x, const pl_tensor *dy)
{
    static const float one = 1.0f;
    int n = x->rows, in = x->cols, out = dy->cols;
    pl_gemm gw = {in, out, n, x->data, 1, in, dy->data, out, 1, dw->data, out};
    pl_gemm gb = {1, out, n, &one, 0, 0, dy->data, out, 1, db->data, out};
    pl_gemm_run(isa, &gw);
    pl_gemm_run(isa, &gb);
}

void pl_tensor_forward(pl_tensor *y, const pl_tensor *x, const pl_tensor *w,
                       const pl_tensor *b)
{
    pl_tensor_forward_isa(pl_isa_for_columns(w->cols), y, x, w, b);
}

void pl_tensor_input_grad(pl_tensor *dx, const pl_tensor *dy, const pl_tensor *w)
{
    pl_tensor_input_grad_isa(pl_isa_for_columns(w->rows), dx, dy, w);
}

void pl_tensor_weight_grad(pl_tensor *dw, pl_tensor *db, const pl_tensor *x,
                           const pl_tensor *dy)
{
    pl_tensor_weight_grad_isa(pl_isa_for_columns(dy->cols), dw, db, x, dy);
}

/* The element-wise loops below run in blocks of a fixed 16 floats: a loop
 * of known length, which even -O2 turns into vector code. */
enum { BLOCK = 16 };

static void sgd_run(float *restrict w, float *restrict g, float lr, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        w[i] -= lr * g[i];
        g[i] = 0.0f;
    }
}

void pl_tensor_sgd(pl_tensor *w, pl_tensor *g, float lr)
{
    size_t n = (size_t)w->rows * (size_t)w->cols, i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        sgd_run(w->data + i, g->data + i, lr, BLOCK);
    sgd_run(w->data + i, g->data + i, lr, n - i);
}

static void momentum_run(float *restrict w, float *restrict g, float *restrict v, float lr,
                         float mu, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        v[i] = mu * v[i] + g[i];
        w[i] -= lr * v[i];
        g[i] = 0.0f;
    }
}

void pl_tensor_sgd_momentum(pl_tensor *w, pl_tensor *g, pl_tensor *v, float lr, float mu)
{
    size_t n = (size_t)w->rows * (size_t)w->cols, i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        momentum_run(w->data + i, g->data + i, v->data + i, lr, mu, BLOCK);
    momentum_run(w->data + i, g->data + i, v->data + i, lr, mu, n - i);
}

/* The ReLU loops store every element, chosen without a branch: signs are
 * random, so a branch would be mispredicted half the time. */

static void relu_run(float *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        v[i] = v[i] < 0.0f ? 0.0f : v[i];
}

void pl_tensor_relu(pl_tensor *t)
{
    size_t n = (size_t)t->rows * (size_t)t->cols, i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        relu_run(t->data + i, BLOCK);
    relu_run(t->data + i, n - i);
}

static void relu_backward_run(float *restrict dy, const float *restrict y, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dy[i] = y[i] <= 0.0f ? 0.0f : dy[i];
}

/* y is the ReLU output: y <= 0 exactly where the input was <= 0, so the
 * pre-activation need not be kept. The gradient at 0 is taken as 0. */
void pl_tensor_relu_backward(pl_tensor *dy, const pl_tensor *y)
{
    size_t n = (size_t)dy->rows * (size_t)dy->cols, i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        relu_backward_run(dy->data + i, y->data + i, BLOCK);
    relu_backward_run(dy->data + i, y->data + i, n - i);
}
