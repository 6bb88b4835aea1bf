/**
 * @file stage.h
 * @brief One stage on one micro-batch: its four kernels and its stash.
 *
 * A stage is a contiguous run of the model's layers (chapter 01). On a
 * micro-batch it runs forward (F), and later backward in two kernels, as in
 * chapter 06: backward-input (I) produces the gradient for the previous
 * stage, backward-weight (W) accumulates dW and db; a full backward (B) is I
 * then W. What the forward keeps for the backward is the micro-batch's
 * *stash*; under recomputation (chapter 03) only its input is kept and the
 * rest is rebuilt before the backward.
 *
 * Invariant: weight gradients are accumulated micro-batch by micro-batch in
 * increasing order; pl_model_sgd applies and clears them.
 */
#ifndef PL_STAGE_H
#define PL_STAGE_H

#include <stddef.h>

#include "action.h"
#include "model.h"
#include "pool.h"
#include "tensor.h"

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
    pl_tensor *act;    /**< count+1 tensors (one block with grad): act[0] (rows, in of the first layer), act[k+1] (rows, out of layer k) */
    pl_tensor *grad;   /**< count tensors, grad[k] (rows, out of layer k); empty until backward-input */
    pl_pool *pool;     /**< where its tensors and arrays come from and go back to; NULL: malloc and free */
} pl_stash;

/** Free every tensor the stash holds, and its arrays (into its pool, which it keeps). Safe on a zeroed stash. */
void pl_stage_free(pl_stash *s);

/** Free every activation but the stage input act[0] (recomputation keeps only that). */
void pl_stage_keep_input(pl_stash *s);

/** Bytes of tensors the stash holds right now. */
size_t pl_stage_held(const pl_stash *s);

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
 * Bytes a stage's stash holds after an action, as pl_stage_held would report
 * them: after the forward (PL_F; the input alone if `recompute`), after
 * backward-input (PL_I), and zero after PL_B or PL_W. memory.c turns this
 * into the accounting rule every executor follows.
 */
size_t pl_stage_stash_bytes(const pl_model *m, int first, int count, int rows,
                            pl_kind after, int recompute);

#endif
