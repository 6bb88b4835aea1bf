/*
 * tensor.c -- dense float32 matrices and the kernels of one Linear layer.
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

// [region tensor-forward]
/* y (n, out) = b (1, out) + x (n, in) w (in, out):
 * y[i][j] starts at b[j] and adds x[i][k] w[k][j] for k = 0, 1, ... in order.
 * Row i of y reads only row i of x, so a row gives the same bits whichever
 * micro-batch it travels in. */
void pl_tensor_forward_isa(pl_isa isa, pl_tensor *y, const pl_tensor *x,
                           const pl_tensor *w, const pl_tensor *b)
{
    int n = x->rows, in = x->cols, out = w->cols;
    if (n <= 0 || out <= 0)
        return; /* no output (and maybe no storage to copy from) */
    for (int i = 0; i < n; i++)
        memcpy(y->data + (size_t)i * out, b->data, (size_t)out * sizeof *b->data);
    pl_gemm g = {n, out, in, x->data, in, 1, w->data, out, 1, y->data, out};
    pl_gemm_run(isa, &g);
}
// [endregion tensor-forward]

// [region tensor-input-grad]
/* dx (n, in) = dy (n, out) w^T, where w is (in, out):
 * dx[i][k] starts at 0 and adds dy[i][j] w[k][j] for j = 0, 1, ... in order.
 * w^T is read in place (b[p][k] = w[k][p]: strides 1 and out); gemm copies
 * it into its cache panels already transposed. */
void pl_tensor_input_grad_isa(pl_isa isa, pl_tensor *dx, const pl_tensor *dy,
                              const pl_tensor *w)
{
    int n = dy->rows, out = dy->cols, in = w->rows;
    pl_tensor_zero(dx);
    pl_gemm g = {n, in, out, dy->data, out, 1, w->data, 1, out, dx->data, in};
    pl_gemm_run(isa, &g);
}
// [endregion tensor-input-grad]

// [region tensor-weight-grad]
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
// [endregion tensor-weight-grad]

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
