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
 */
void pl_matmul_forward(pl_tensor *y, const pl_tensor *x, const pl_tensor *w,
                       const pl_tensor *b);

/**
 * Input gradient: dx = dy W^T.
 * dy (n, out), w (in, out) -> dx (n, in). dx is overwritten.
 */
void pl_matmul_input_grad(pl_tensor *dx, const pl_tensor *dy,
                          const pl_tensor *w);

/**
 * Weight gradient, accumulated: dw += x^T dy, db += column sums of dy.
 * x (n, in), dy (n, out) -> dw (in, out), db (1, out).
 * Accumulating (not overwriting) is what gradient accumulation over
 * micro-batches means; callers add micro-batches in increasing order.
 */
void pl_matmul_weight_grad(pl_tensor *dw, pl_tensor *db, const pl_tensor *x,
                           const pl_tensor *dy);

/**
 * A view of rows [start, start+rows) of t: shares t's storage, must not be
 * freed, and lives no longer than t.
 */
pl_tensor pl_tensor_rows(const pl_tensor *t, int start, int rows);

/** ReLU in place: t = max(t, 0). */
void pl_relu(pl_tensor *t);

/**
 * ReLU backward in place: dy[i] = 0 wherever y[i] <= 0.
 * y is the ReLU *output* (n, k); dy (n, k).
 */
void pl_relu_backward(pl_tensor *dy, const pl_tensor *y);

#endif
