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

int pl_schedule_microbatch(pl_schedule *s, int devices, int microbatches,
                           char *err, size_t errlen)
{
    *s = (pl_schedule){0};
    if (devices < 1 || microbatches < 1) {
        snprintf(err, errlen, "microbatch needs devices >= 1 and microbatches >= 1 "
                 "(got %d and %d)", devices, microbatches);
        return -1;
    }
    if (pl_schedule_init(s, devices, microbatches, 1) != 0) {
        snprintf(err, errlen, "microbatch: out of memory");
        return -1;
    }
    int failed = 0;
    // [region microbatch]
    for (int d = 0; d < devices; d++)
        for (int mb = 0; mb < microbatches; mb++) {
            failed |= pl_schedule_push(s, d, PL_F, mb, 0);
            failed |= pl_schedule_push(s, d, PL_B, mb, 0); /* in flight: just mb */
        }
    // [endregion microbatch]
    if (failed) {
        pl_schedule_free(s);
        snprintf(err, errlen, "microbatch: out of memory");
        return -1;
    }
    return 0;
}
