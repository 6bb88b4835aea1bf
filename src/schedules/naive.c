/*
 * naive.c -- chapter 01: naive staging.
 *
 * The model's layers are split by depth over p devices, and the whole batch
 * is one micro-batch (m = 1). Every device's list is the same two actions:
 *
 *     d0: F0 B0
 *     d1: F0 B0
 *     ...
 *
 * The lists alone say nothing about time; the messages do. Device d's F0
 * waits for the activation of device d-1's F0, and its B0 for the gradient of
 * device d+1's B0. So the forward walks down the pipeline, the backward walks
 * back up, and at any moment exactly one device works: the bubble is (p-1)/p.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_naive;

int pl_schedule_naive(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (shape->microbatches != 1) {
        *s = (pl_schedule){0};
        snprintf(err, errlen, "naive runs the whole batch at once: microbatches must be 1");
        return -1;
    }
    if (pl_schedule_begin(s, "naive", shape, 1, err, errlen))
        return -1;
    int failed = 0, p = shape->devices;
    // [region naive]
    for (int d = 0; d < p; d++) {
        failed |= pl_schedule_push(s, d, PL_F, 0, 0); /* forward, after d-1's */
        failed |= pl_schedule_push(s, d, PL_B, 0, 0); /* backward, after d+1's */
    }
    // [endregion naive]
    return pl_schedule_end(s, "naive", failed, err, errlen);
}
