/**
 * @file model.h
 * @brief The MLP that every chapter trains, and its per-stage kernels.
 *
 * A model is L layers, each Linear (W: in x out, b: 1 x out) followed by ReLU,
 * except the last, which is linear; the loss is mean squared error over the
 * whole batch. Chapter 00 explains it. Pipelining cuts the layer list into
 * contiguous *stages*; the functions below run one stage on one micro-batch,
 * so the sequential reference (one stage holding every layer) and a pipeline
 * (many stages) execute exactly the same kernels in exactly the same order.
 *
 * The backward pass is two kernels, as in chapter 06: backward-input (I)
 * produces the gradient for the previous stage, backward-weight (W)
 * accumulates dW and db. A full backward (B) is I then W.
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
 * Per-micro-batch state a stage keeps between its forward and its backward:
 * act[0] is the stage input (rows, in); act[k+1] the output of the stage's
 * k-th layer (rows, out). grad[k] is dL/d(pre-activation output) of layer k,
 * produced by backward-input and consumed by backward-weight.
 * With recomputation only act[0] is kept after the forward.
 */
typedef struct {
    int first;         /**< the stage's first layer */
    int count;         /**< the stage's layers: [first, first+count) */
    int rows;          /**< micro-batch rows */
    pl_tensor *act;    /**< count+1 tensors */
    pl_tensor *grad;   /**< count tensors, empty until backward-input */
} pl_stash;

/** Free every tensor the stash holds. Safe on a zeroed stash. */
void pl_stash_free(pl_stash *s);

/** Bytes of tensors the stash holds right now. */
size_t pl_stash_bytes(const pl_stash *s);

/**
 * Forward of layers [first, first+count) on x (rows, width). Fills the stash
 * (allocating it; s must be zeroed or hold an earlier micro-batch, which is
 * freed first); the stage output is s->act[count]. If `keep_input_only`,
 * every act but act[0] is freed before returning (recomputation).
 * Returns 0, or -1 on allocation failure.
 */
int pl_stage_forward(const pl_model *m, int first, int count,
                     const pl_tensor *x, pl_stash *s, int keep_input_only);

/**
 * Recompute the activations of a stash that kept only its input (the extra
 * forward of chapter 03's recomputation). Returns 0, or -1 on failure.
 */
int pl_stage_recompute(const pl_model *m, pl_stash *s);

/**
 * Backward-input: given dy (rows, width), the gradient of the loss with
 * respect to the stage output, fill s->grad and write the gradient with
 * respect to the stage input into dx (rows, width). dx may be NULL for the
 * first stage, whose input gradient nobody needs. Returns 0 or -1.
 */
int pl_stage_backward_input(const pl_model *m, pl_stash *s,
                            const pl_tensor *dy, pl_tensor *dx);

/**
 * Backward-weight: accumulate dW and db of the stage's layers from the
 * stash filled by forward and backward-input.
 */
void pl_stage_backward_weight(pl_model *m, const pl_stash *s);

/**
 * Mean-squared-error loss gradient for one micro-batch.
 * y, target (rows, width) -> dy (rows, width) = 2 (y - target) / (batch * width),
 * where `batch` is the *whole* batch size, so the accumulated gradient over
 * micro-batches is the full batch's. Returns this micro-batch's sum of
 * squared errors divided by (batch * width): its share of the batch loss.
 */
float pl_loss_grad(pl_tensor *dy, const pl_tensor *y, const pl_tensor *target,
                   int batch);

/** SGD on layers [first, first+count): w -= lr dw, b -= lr db; then zero dw, db. */
void pl_model_sgd(pl_model *m, int first, int count, float lr);

/** Forward FLOPs of one layer on `rows` samples (multiply-adds count 2). */
int64_t pl_layer_flops(const pl_layer *l, int rows);

/**
 * Bytes a stage's stash holds after an action, as pl_stash_bytes would report
 * them: after the forward ('F'), after backward-input ('I'), and zero after
 * 'B' or 'W'. Lets the simulator predict what the runtime measures.
 */
size_t pl_stage_stash_bytes(const pl_model *m, int first, int count, int rows,
                            char after_kind, int recompute);

/**
 * 1 if the two models have identical shapes and bitwise identical weights
 * and biases. If max_abs_diff is not NULL it receives the largest absolute
 * difference over all parameters.
 */
int pl_model_equal(const pl_model *a, const pl_model *b, double *max_abs_diff);

#endif
