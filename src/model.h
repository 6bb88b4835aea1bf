/**
 * @file model.h
 * @brief The MLP that every chapter trains, and its per-stage kernels.
 *
 * A model is L layers, each Linear (W: in x out, b: 1 x out) followed by ReLU,
 * except the last, which is linear; the loss is mean squared error over the
 * whole batch. Chapter 00 explains it. Layers may differ in width (chapter
 * 07): layer l maps widths[l-1] features to widths[l], and the model's input
 * has the width of its output, widths[L-1] -- as a language model reads and
 * predicts tokens of one vocabulary. Pipelining cuts the layer list into
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
    pl_tensor vw;  /**< (in, out) momentum of w; empty until SGD with momentum runs */
    pl_tensor vb;  /**< (1, out) momentum of b; likewise */
} pl_layer;

/** The whole network. Owns its layers. */
typedef struct {
    int n_layers;    /**< L */
    int width;       /**< features of the model's input and output (of every layer's if uniform) */
    pl_layer *layers; /**< n_layers layers, first to last */
} pl_model;

/**
 * Build an L-layer MLP of the given width with weights drawn from a
 * generator seeded by `seed`. Returns 0, or -1 on allocation failure or
 * non-positive sizes (the model is then left empty and safe to free).
 */
int pl_model_init(pl_model *m, int n_layers, int width, uint64_t seed);

/**
 * Build an L-layer MLP whose layer l has widths[l] output features (its
 * input: widths[l-1], and widths[L-1] for the first layer), weights drawn as
 * pl_model_init draws them. With every width equal to D it is exactly
 * pl_model_init(m, L, D, seed). Returns 0, or -1 as pl_model_init.
 */
int pl_model_build(pl_model *m, int n_layers, const int *widths, uint64_t seed);

/**
 * The preset `--model lm-like` (chapter 07): L layers of width D, except that
 * the last one is PL_MODEL_WIDE times wider -- so the first layer, which reads
 * that wide input, and the last, which writes it, each cost PL_MODEL_WIDE
 * times a middle layer, as a language model's embedding and head do. Fills
 * widths[0..L).
 */
void pl_model_lm_like(int n_layers, int width, int *widths);

/** How much wider lm-like's first input and last output are than its middle. */
#define PL_MODEL_WIDE 4

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

/**
 * SGD on layers [first, first+count), then zero dw, db. Without momentum
 * (momentum 0): w -= lr dw, b -= lr db. With momentum mu, as PyTorch's SGD:
 * v = mu v + dw, w -= lr v (v starts at zero, allocated on first use), and
 * the same for b. Returns 0, or -1 if a momentum buffer cannot be allocated.
 */
int pl_model_sgd(pl_model *m, int first, int count, float lr, float momentum);

/** Forward FLOPs of one layer on `rows` samples (multiply-adds count 2). */
int64_t pl_model_layer_flops(const pl_layer *l, int rows);

/** Bytes of one layer's parameters, w and b (its gradients take as many again). */
size_t pl_model_layer_bytes(const pl_layer *l);

/**
 * 1 if the two models have identical shapes and bitwise identical weights
 * and biases. If max_abs_diff is not NULL it receives the largest absolute
 * difference over all parameters.
 */
int pl_model_equal(const pl_model *a, const pl_model *b, double *max_abs_diff);

#endif
