/**
 * @file clip.h
 * @brief Gradient clipping by the global norm (chapter 06).
 *
 * With --clip-grad-norm X, every gradient is scaled by X / |g| before the
 * optimizer step whenever |g|, the norm of all the model's gradients, exceeds
 * X. No stage can know |g| alone: a pipeline needs an all-reduce of one
 * number per device (transport.h), which is a synchronisation -- chapter 06
 * measures what it costs, and how post-validation avoids waiting for it.
 *
 * Floating-point addition is not associative, so for the trained weights to
 * stay bitwise equal to the sequential reference both add the squares in one
 * order, the pipeline's: layer by layer within a stage, chunk by chunk
 * within a device, device by device in the all-reduce (from 0.0, in device
 * order). This module is that order; device_step.c and reference.c call it.
 *
 * Invariant: the squared norm is summed in double; the factor is applied in
 * float, to dW then db, before pl_model_sgd.
 */
#ifndef PL_CLIP_H
#define PL_CLIP_H

#include "model.h"
#include "partition.h"
#include "schedule.h"

/** Sum of the squares of dW then db of layers [first, first+count), layer by layer. */
double pl_clip_sqnorm(const pl_model *m, int first, int count);

/**
 * Device d's share of the squared norm in pipeline s with stages `part`:
 * its chunks' stages, chunk 0 first.
 */
double pl_clip_device_sqnorm(const pl_model *m, const pl_partition *part, const pl_schedule *s,
                             int d);

/** The factor to scale gradients by: 1 if sqrt(sqnorm) <= max_norm, else max_norm / norm. */
float pl_clip_factor(double sqnorm, double max_norm);

/** Scale dW and db of layers [first, first+count) by `factor` (nothing if it is 1). */
void pl_clip_scale(pl_model *m, int first, int count, float factor);

#endif
