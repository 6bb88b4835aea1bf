/*
 * microbatch.c -- chapter 02: micro-batching, one micro-batch in flight.
 *
 * The batch is split into m micro-batches and their gradients accumulate,
 * but each micro-batch goes all the way down the pipeline and all the way
 * back before the next one starts. Every device runs
 *
 *     d: F0 B0 F1 B1 ... F(m-1) B(m-1)
 *
 * There is no warmup and no steady state to speak of: device 0 cannot start
 * F1 until its own B0 is done, and B0 waits for the gradient that only comes
 * back once micro-batch 0 has crossed every device twice. The messages make
 * the run sequential, so the bubble stays (p-1)/p. What m buys is memory:
 * one micro-batch in flight holds 1/m of the batch's activations.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_microbatch;

int pl_schedule_microbatch(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "microbatch", shape, 1, err, errlen))
        return -1;
    int failed = 0, p = shape->devices, m = shape->microbatches;
    // [region microbatch]
    for (int d = 0; d < p; d++)
        for (int mb = 0; mb < m; mb++) {
            failed |= pl_schedule_push(s, d, PL_F, mb, 0);
            failed |= pl_schedule_push(s, d, PL_B, mb, 0); /* in flight: just mb */
        }
    // [endregion microbatch]
    return pl_schedule_end(s, "microbatch", failed, err, errlen);
}
