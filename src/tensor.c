/*
 * tensor.c -- dense float32 matrices and the kernels of one Linear layer.
 *
 * Every loop below runs in one fixed order and on one thread. Floating-point
 * addition is not associative, so the order *is* the result: keeping it fixed
 * is what makes a pipeline's weights bitwise equal to the reference's.
 * The Makefile also passes -ffp-contract=off so no compiler fuses a*b+c into
 * one rounding on one machine and not on another.
 */
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

pl_tensor pl_tensor_new(int rows, int cols)
{
    pl_tensor t = {0, 0, NULL};
    if (rows <= 0 || cols <= 0)
        return t;
    t.data = calloc((size_t)rows * (size_t)cols, sizeof *t.data);
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
/* y (n, out) = x (n, in) w (in, out) + b (1, out).
 * Each output row depends only on its own input row, so a row gives the same
 * bits whichever micro-batch it travels in. Loop order i, k, j walks w and y
 * row by row (cache-friendly) and sums y[i][j] as b + x0 w0 + x1 w1 + ... */
void pl_matmul_forward(pl_tensor *y, const pl_tensor *x, const pl_tensor *w,
                       const pl_tensor *b)
{
    int n = x->rows, in = x->cols, out = w->cols;
    for (int i = 0; i < n; i++) {
        float *yi = y->data + (size_t)i * out;
        const float *xi = x->data + (size_t)i * in;
        for (int j = 0; j < out; j++)
            yi[j] = b->data[j];
        for (int k = 0; k < in; k++) {
            const float xik = xi[k];
            const float *wk = w->data + (size_t)k * out;
            for (int j = 0; j < out; j++)
                yi[j] += xik * wk[j];
        }
    }
}
// [endregion tensor-forward]

// [region tensor-input-grad]
/* dx (n, in) = dy (n, out) w^T, where w is (in, out).
 * dx[i][k] is the dot product of row i of dy with row k of w: both rows are
 * contiguous, and the sum runs over j in increasing order. */
void pl_matmul_input_grad(pl_tensor *dx, const pl_tensor *dy,
                          const pl_tensor *w)
{
    int n = dy->rows, out = dy->cols, in = w->rows;
    for (int i = 0; i < n; i++) {
        const float *dyi = dy->data + (size_t)i * out;
        for (int k = 0; k < in; k++) {
            const float *wk = w->data + (size_t)k * out;
            float s = 0.0f;
            for (int j = 0; j < out; j++)
                s += dyi[j] * wk[j];
            dx->data[(size_t)i * in + k] = s;
        }
    }
}
// [endregion tensor-input-grad]

// [region tensor-weight-grad]
/* dw (in, out) += x (n, in)^T dy (n, out); db (1, out) += column sums of dy.
 * The sum runs straight into dw, row after row. Rows of later micro-batches
 * simply continue the same running sum, which is why gradient accumulation
 * must visit micro-batches in one agreed order (increasing). */
void pl_matmul_weight_grad(pl_tensor *dw, pl_tensor *db, const pl_tensor *x,
                           const pl_tensor *dy)
{
    int n = x->rows, in = x->cols, out = dy->cols;
    for (int i = 0; i < n; i++) {
        const float *xi = x->data + (size_t)i * in;
        const float *dyi = dy->data + (size_t)i * out;
        for (int k = 0; k < in; k++) {
            const float xik = xi[k];
            float *dwk = dw->data + (size_t)k * out;
            for (int j = 0; j < out; j++)
                dwk[j] += xik * dyi[j];
        }
        for (int j = 0; j < out; j++)
            db->data[j] += dyi[j];
    }
}
// [endregion tensor-weight-grad]

void pl_relu(pl_tensor *t)
{
    size_t n = (size_t)t->rows * (size_t)t->cols;
    for (size_t i = 0; i < n; i++)
        if (t->data[i] < 0.0f)
            t->data[i] = 0.0f;
}

/* y is the ReLU output: y <= 0 exactly where the input was <= 0, so the
 * pre-activation need not be kept. The gradient at 0 is taken as 0. */
void pl_relu_backward(pl_tensor *dy, const pl_tensor *y)
{
    size_t n = (size_t)dy->rows * (size_t)dy->cols;
    for (size_t i = 0; i < n; i++)
        if (y->data[i] <= 0.0f)
            dy->data[i] = 0.0f;
}
