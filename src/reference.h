/**
 * @file reference.h
 * @brief The sequential reference: the whole model trained on one device.
 *
 * Chapter 00's baseline. For each step it runs every micro-batch, in order,
 * forward through every layer, then backward-input and backward-weight, and
 * finally one SGD step -- exactly the kernels a pipeline runs, in the order
 * each pipeline stage runs them. So after N steps a correct pipeline's
 * weights are bitwise equal to the reference's (docs/design.md, "Correctness").
 *
 * Invariant: the reference never reorders micro-batches.
 */
#ifndef PL_REFERENCE_H
#define PL_REFERENCE_H

#include <stdint.h>

#include "model.h"
#include "options.h"
#include "partition.h"
#include "schedule.h"

/**
 * Train `m` in place for o->steps steps of o->batch samples from o->seed,
 * accumulating gradients over o->microbatches micro-batches, with SGD at
 * o->lr and o->momentum. If loss is not NULL it receives o->steps values, the
 * mean-squared-error loss of each step before its update. Returns 0, or -1
 * with a message on bad sizes or allocation failure.
 */
int pl_reference_train(pl_model *m, const pl_options *o, float *loss, char *err,
                       size_t errlen);

/**
 * pl_reference_train, clipping as the pipeline `s` with stages `part` does
 * (chapter 06): with o->clip_norm > 0, the squared gradient norm is summed in
 * that pipeline's order (clip.h) before each step, and the gradients scaled
 * if it exceeds the limit. part and s may be NULL: one device holding every
 * layer. If `clipped` is not NULL it receives o->steps flags, 1 where the
 * step's norm exceeded the limit. Returns 0 or -1 as pl_reference_train.
 */
int pl_reference_train_as(pl_model *m, const pl_options *o, const pl_partition *part,
                          const pl_schedule *s, float *loss, unsigned char *clipped, char *err,
                          size_t errlen);

#endif
