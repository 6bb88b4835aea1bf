/**
 * @file model.h
 * @brief The MLP that every chapter trains, and its per-stage kernels.
 *
 * A model is L layers, each Linear (W: in x out, b: 1 x out) followed by ReLU,
 * except the last, which is linear; the loss is mean squared error over the
 * whole batch. Chapter 00 explains it. Pipelining cuts the layer list into
 * contiguous *stages* (stage.h runs one stage on one micro-batch), so the
 * sequential reference (one stage holding every layer) and a pipeline (many
 * stages) execute exactly the same kernels in exactly the same order.
 *
 * Invariant: weight gradients are accumulated micro-batch by micro-batch in
 * increasing order; pl_model_sgd applies and clears them.
 */
#ifndef PL_MODEL_H
#define PL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/** One Linear(+ReLU) layer with its gradient accumulators. */
typedef struct {
    int in;        /**< input features */
    int out;       /**< output features */
    int relu;      /**< 1 if a ReLU follows the linear map */
    pl_tensor w;   /**< (in, out) weights */
    pl_tensor b;   /**< (1, out) bias */
    pl_tensor dw;  /**< (in, out) accumulated weight gradient */
    pl_tensor db;  /**< (1, out) accumulated bias gradient */
} pl_layer;

/** The whole network. Owns its layers. */
typedef struct {
    int n_layers;    /**< L */
    int width;       /**< features of every layer's input and output */
    pl_layer *layers; /**< n_layers layers, first to last */
} pl_model;

/**
 * Build an L-layer MLP of the given width with weights drawn from a
 * generator seeded by `seed`. Returns 0, or -1 on allocation failure or
 * non-positive sizes (the model is then left empty and safe to free).
 */
int pl_model_init(pl_model *m, int n_layers, int width, uint64_t seed);

/** Free every layer. Safe on a zeroed or half-built model. */
void pl_model_free(pl_model *m);

/** Deep copy (weights and gradients). Returns 0, or -1 on allocation failure. */
int pl_model_clone(pl_model *dst, const pl_model *src);

/**
 * Mean-squared-error loss gradient for one micro-batch.
 * y, target (rows, width) -> dy (rows, width) = 2 (y - target) / (batch * width),
 * where `batch` is the *whole* batch size, so the accumulated gradient over
 * micro-batches is the full batch's. Returns this micro-batch's sum of
 * squared errors divided by (batch * width): its share of the batch loss.
 */
float pl_model_loss_grad(pl_tensor *dy, const pl_tensor *y, const pl_tensor *target,
                   int batch);

/** SGD on layers [first, first+count): w -= lr dw, b -= lr db; then zero dw, db. */
void pl_model_sgd(pl_model *m, int first, int count, float lr);

/** Forward FLOPs of one layer on `rows` samples (multiply-adds count 2). */
int64_t pl_model_layer_flops(const pl_layer *l, int rows);

/**
 * 1 if the two models have identical shapes and bitwise identical weights
 * and biases. If max_abs_diff is not NULL it receives the largest absolute
 * difference over all parameters.
 */
int pl_model_equal(const pl_model *a, const pl_model *b, double *max_abs_diff);

#endif
