/*
 * zb_v.c -- chapter 08: ZB-V, zero bubble in the V placement.
 *
 * Two chunks per device in a V (route.h): device d holds stage d (chunk 0)
 * and stage 2p-1-d (chunk 1), so a micro-batch goes down the devices on
 * chunk 0, turns on the last device and comes back up on chunk 1; device 0
 * holds both the first stage and the last. With the backward split into I
 * and W (chapter 06), device d runs:
 *
 *   warm-up   2(p-d)-1 forwards on chunk 0; then d pairs F.1 F.0, as chunk
 *             1's first activations come back up; then p-d triples F.1 I.1
 *             W.1, as its first gradients come back down;
 *   steady    F.0 I.0 W.0 F.1 I.1 W.1 (no F.0 once chunk 0 has run them
 *             all), until chunk 1 has caught up with chunk 0's forwards;
 *   cool-down d pairs I.0 I.1, then p-d pairs I.0 W.0, then the Ws still
 *             owed: chunk 1's, then chunk 0's.
 *
 *     d0: F0 F1 F2 F3 F4 F5 F6 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 ...
 *
 * This is the zero-bubble authors' handcrafted ZB-V (sail-sg/zero-bubble-
 * pipeline-parallelism, get_zb_v_schedule), which PyTorch runs as
 * ScheduleZBVZeroBubble, written from its rule. It is built for
 * n = max(m, 2p-1) micro-batches, the fewest that keep the V busy; with m <
 * 2p-1 it is the schedule for 2p-1 with the missing micro-batches' actions
 * left out, as both peers do. Each chunk's Ws come in micro-batch order, so
 * the weights stay bitwise equal to the reference.
 *
 * A chunk's forward is half a device's, and the fill and drain of the V
 * cost one chunk-forward per device: with t_F = t_I = t_W every device
 * idles (p-1) t_F/2, half ZB-H1's idle time, while holding 2p chunk-micro-
 * batches -- p micro-batches of its layers, 1F1B's first device -- on every
 * device (registry.c has the formulas, chapter 08 derives them).
 */
#include "schedule.h"

pl_generator pl_schedule_zb_v;

// [region zb-v]
/* Append `kind` on chunk c for the next micro-batch of *next. */
static int next(pl_schedule *s, int d, pl_kind kind, int c, int *count)
{
    return pl_schedule_keep(s, d, (pl_action){kind, (*count)++, c});
}

/* Device d's list, written for n micro-batches (n >= 2p - 1). */
static int device(pl_schedule *s, int d, int n)
{
    int p = s->devices, failed = 0;
    int f[2] = {0, 0}, i[2] = {0, 0}, w[2] = {0, 0}; /* next F, I, W per chunk */
    for (int k = 0; k < 2 * (p - d) - 1; k++) /* warm-up: down the V */
        failed |= next(s, d, PL_F, 0, &f[0]);
    for (int k = 0; k < d; k++) { /* chunk 1's first activations come back up */
        failed |= next(s, d, PL_F, 1, &f[1]);
        failed |= next(s, d, PL_F, 0, &f[0]);
    }
    for (int k = 0; k < p - d; k++) { /* and its first gradients come down */
        failed |= next(s, d, PL_F, 1, &f[1]);
        failed |= next(s, d, PL_I, 1, &i[1]);
        failed |= next(s, d, PL_W, 1, &w[1]);
    }
    while (f[1] < f[0] || f[0] < n) { /* steady: both chunks, F I W each */
        if (f[0] < n)
            failed |= next(s, d, PL_F, 0, &f[0]);
        failed |= next(s, d, PL_I, 0, &i[0]);
        failed |= next(s, d, PL_W, 0, &w[0]);
        failed |= next(s, d, PL_F, 1, &f[1]);
        failed |= next(s, d, PL_I, 1, &i[1]);
        failed |= next(s, d, PL_W, 1, &w[1]);
    }
    for (int k = 0; k < d; k++) { /* cool-down: input gradients first */
        failed |= next(s, d, PL_I, 0, &i[0]);
        failed |= next(s, d, PL_I, 1, &i[1]);
    }
    for (int k = 0; k < p - d; k++) {
        failed |= next(s, d, PL_I, 0, &i[0]);
        failed |= next(s, d, PL_W, 0, &w[0]);
    }
    while (w[1] < n) /* the Ws still owed fill the tail */
        failed |= next(s, d, PL_W, 1, &w[1]);
    while (w[0] < n)
        failed |= next(s, d, PL_W, 0, &w[0]);
    return failed;
}
// [endregion zb-v]

int pl_schedule_zb_v(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "zb-v", shape, 2, err, errlen))
        return -1;
    s->placement = PL_PLACE_V;
    int failed = 0, p = shape->devices, m = shape->microbatches;
    int n = m > 2 * p - 1 ? m : 2 * p - 1; /* fewer: the missing ones left out */
    for (int d = 0; d < p; d++)
        failed |= device(s, d, n);
    return pl_schedule_end(s, "zb-v", failed, err, errlen);
}
