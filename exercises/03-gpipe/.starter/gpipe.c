/*
 * gpipe.c -- chapter 03: GPipe, fill and drain.
 *
 * EXERCISE 03: write the generator (search for TODO). `make exercise-ch03`
 * grades this file.
 *
 * Every device runs all its forwards, then all its backwards:
 *
 *     d: F0 F1 ... F(m-1) B0 B1 ... B(m-1)
 *
 * Forwards of different micro-batches now overlap across devices: while
 * device 1 runs F0, device 0 already runs F1. The pipeline fills (p-1 steps of
 * bubble), runs full, drains, and the same happens on the way back, so the
 * bubble shrinks to (p-1)/(m+p-1). The price is memory: every micro-batch is
 * in flight at once, so each device holds m micro-batches' activations.
 *
 * The backwards run in increasing micro-batch order on purpose: every stage
 * then adds weight gradients in the same order as the sequential reference,
 * and the trained weights match it bit for bit.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_gpipe;

int pl_schedule_gpipe(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "gpipe", shape, 1, err, errlen))
        return -1;
    int failed = 0, p = shape->devices, m = shape->microbatches;
    /* TODO(ch03): for every device d, push every forward F0 .. F(m-1), then
     * every backward B0 .. B(m-1), with
     *     failed |= pl_schedule_push(s, d, PL_F, mb, 0);
     * Keep the backwards in increasing micro-batch order: the weights then
     * match the sequential reference bit for bit. */
    (void)p, (void)m;
    return pl_schedule_end(s, "gpipe", failed, err, errlen);
}
