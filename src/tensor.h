/**
 * @file tensor.h
 * @brief Dense float32 matrices and the three matmul orientations.
 *
 * A pl_tensor is a row-major matrix of `rows` x `cols` floats. Every kernel
 * here is single-threaded and loops in a fixed order, so the same inputs give
 * the same bits on every run and on every device thread -- the property that
 * lets chapter 00's sequential reference and every pipeline schedule agree bit
 * for bit (docs/design.md, "Correctness").
 *
 * Invariant: a kernel's output never aliases one of its inputs.
 */
#ifndef PL_TENSOR_H
#define PL_TENSOR_H

#include <stddef.h>

#include "isa.h"

/** A row-major float32 matrix. `data` holds rows*cols floats, owned. */
typedef struct {
    int rows;     /**< first dimension */
    int cols;     /**< second dimension */
    float *data;  /**< rows * cols floats, row-major; owned */
} pl_tensor;

/**
 * Allocate a zero-filled rows x cols tensor. Returns a tensor with
 * data == NULL on allocation failure (or when rows*cols == 0).
 */
pl_tensor pl_tensor_new(int rows, int cols);

/**
 * Allocate a rows x cols tensor whose values are whatever the memory held,
 * for a caller that writes every element before reading one (numpy's
 * `empty`). Same failure as pl_tensor_new. A device makes one for nearly
 * every action, and the zeros would be written twice.
 */
pl_tensor pl_tensor_empty(int rows, int cols);

/** Free the tensor's storage and reset it to empty. Safe on an empty tensor. */
void pl_tensor_free(pl_tensor *t);

/** Bytes of float storage held by t. */
size_t pl_tensor_bytes(const pl_tensor *t);

/** Set every element to zero. */
void pl_tensor_zero(pl_tensor *t);

/** A new tensor holding a copy of src. Returns 0, or -1 (dst empty) on allocation failure. */
int pl_tensor_dup(pl_tensor *dst, const pl_tensor *src);

/** Copy src into dst; both must have the same shape. */
void pl_tensor_copy(pl_tensor *dst, const pl_tensor *src);

/**
 * Forward: y = x W + b.
 * x (n, in), w (in, out), b (1, out) -> y (n, out). y is overwritten.
 * y[i][j] = b[j], then += x[i][k] w[k][j] for k = 0, 1, ..., one fused
 * multiply-add each.
 */
void pl_tensor_forward(pl_tensor *y, const pl_tensor *x, const pl_tensor *w,
                       const pl_tensor *b);

/**
 * Input gradient: dx = dy W^T.
 * dy (n, out), w (in, out) -> dx (n, in). dx is overwritten.
 * dx[i][k] = 0, then += dy[i][j] w[k][j] for j = 0, 1, ..., one fused
 * multiply-add each. Allocates nothing.
 */
void pl_tensor_input_grad(pl_tensor *dx, const pl_tensor *dy,
                          const pl_tensor *w);

/**
 * Weight gradient, accumulated: dw += x^T dy, db += column sums of dy.
 * x (n, in), dy (n, out) -> dw (in, out), db (1, out).
 * dw[k][j] += x[i][k] dy[i][j] for i = 0, 1, ..., one fused multiply-add
 * each, continuing whatever sum dw already holds; db[j] += dy[i][j] likewise.
 * Accumulating (not overwriting) is what gradient accumulation over
 * micro-batches means; callers add micro-batches in increasing order.
 */
void pl_tensor_weight_grad(pl_tensor *dw, pl_tensor *db, const pl_tensor *x,
                           const pl_tensor *dy);

/**
 * A view of rows [start, start+rows) of t: shares t's storage, must not be
 * freed, and lives no longer than t.
 */
pl_tensor pl_tensor_rows(const pl_tensor *t, int start, int rows);

/** pl_tensor_forward on the path `isa` (an unsupported one runs the scalar path). */
void pl_tensor_forward_isa(pl_isa isa, pl_tensor *y, const pl_tensor *x,
                           const pl_tensor *w, const pl_tensor *b);

/** pl_tensor_input_grad on the path `isa` (an unsupported one runs the scalar path). */
void pl_tensor_input_grad_isa(pl_isa isa, pl_tensor *dx, const pl_tensor *dy,
                              const pl_tensor *w);

/** pl_tensor_weight_grad on the path `isa` (an unsupported one runs the scalar path). */
void pl_tensor_weight_grad_isa(pl_isa isa, pl_tensor *dw, pl_tensor *db,
                               const pl_tensor *x, const pl_tensor *dy);

/**
 * One SGD update from an accumulated gradient, which is then cleared:
 * w -= lr g (a multiply, then a subtract: two roundings, as written), g = 0.
 * w and g have the same shape and do not overlap.
 */
void pl_tensor_sgd(pl_tensor *w, pl_tensor *g, float lr);

/**
 * One SGD update with momentum (chapter 07), PyTorch's rule: v = mu v + g,
 * w -= lr v, then g = 0. w, g and v (the velocity, zero before the first
 * step) have the same shape and do not overlap.
 */
void pl_tensor_sgd_momentum(pl_tensor *w, pl_tensor *g, pl_tensor *v, float lr, float mu);

/** ReLU in place: t = max(t, 0). */
void pl_tensor_relu(pl_tensor *t);

/**
 * ReLU backward in place: dy[i] = 0 wherever y[i] <= 0.
 * y is the ReLU *output* (n, k); dy (n, k).
 */
void pl_tensor_relu_backward(pl_tensor *dy, const pl_tensor *y);

#endif
