/*
 * zero_bubble.c -- chapter 06: split the backward into I, which the stage
 * before waits for, and W, which nobody waits for; run every I as early as
 * 1F1B runs its B, and every W k(p-1) micro-batches late.
 */
#include "zero_bubble.h"

#include <stdio.h>

static int min(int a, int b)
{
    return a < b ? a : b;
}

// [region zero-bubble]
/* The backward of the oldest micro-batch still owed one: I, and the W that
 * is due; on stage 0, whose input gradient nobody needs, both at once. */
static int backward(pl_schedule *s, int d, int *i, int *w)
{
    if (d == 0) {
        (*w)++;
        return pl_schedule_push(s, d, PL_B, (*i)++, 0);
    }
    int failed = pl_schedule_push(s, d, PL_I, (*i)++, 0);
    return failed | pl_schedule_push(s, d, PL_W, (*w)++, 0);
}

static int device(pl_schedule *s, int d, int k)
{
    int p = s->devices, m = s->microbatches, failed = 0;
    int warmup = min(k * (p - 1 - d), m), ahead = min(k * (p - 1), m);
    int f = 0, i = 0, w = 0; /* next forward, input-grad and weight-grad */
    while (f < warmup) /* warm-up: forwards only */
        failed |= pl_schedule_push(s, d, PL_F, f++, 0);
    while (f < ahead) { /* the first gradients arrive: F and I, no W yet */
        failed |= pl_schedule_push(s, d, PL_F, f++, 0);
        failed |= pl_schedule_push(s, d, PL_I, i++, 0);
    }
    while (f < m) { /* steady: F, I, W */
        failed |= pl_schedule_push(s, d, PL_F, f++, 0);
        failed |= backward(s, d, &i, &w);
    }
    while (i < m) /* cool-down: I and W */
        failed |= backward(s, d, &i, &w);
    while (w < m) /* the deferred W fill the tail */
        failed |= pl_schedule_push(s, d, PL_W, w++, 0);
    return failed;
}
// [endregion zero-bubble]

int pl_zero_bubble_generate(pl_schedule *s, const pl_shape *shape, const char *name, int k,
                            char *err, size_t errlen)
{
    if (pl_schedule_begin(s, name, shape, 1, err, errlen))
        return -1;
    int failed = 0;
    for (int d = 0; d < shape->devices; d++)
        failed |= device(s, d, k);
    return pl_schedule_end(s, name, failed, err, errlen);
}
