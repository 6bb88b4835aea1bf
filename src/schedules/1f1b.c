/*
 * 1f1b.c -- chapter 04: one forward, one backward.
 *
 * GPipe's bubble with far less memory. Device s (stage s) runs three phases:
 *
 *   warmup    min(p - s - 1, m) forwards, enough to keep the devices after
 *             it busy until the first gradient comes back;
 *   steady    one forward then one backward, while forwards remain: each
 *             backward frees the activations of the oldest micro-batch;
 *   cooldown  the backwards that are left.
 *
 * With p = 4, m = 8 device 0 runs F0 F1 F2 | F3 B0 F4 B1 ... F7 B4 | B5 B6 B7
 * and the last device F0 B0 F1 B1 ... with no warmup at all. The bubble is
 * GPipe's, (p-1)/(m+p-1), but at most min(p - s, m) micro-batches are in
 * flight on device s instead of m. Backwards run in increasing micro-batch
 * order, so weight gradients accumulate as in the sequential reference.
 *
 * A memory cap, shape->max_inflight = K (--max-inflight): no device holds
 * more than K micro-batches, so no warm-up is longer than K - 1. Its step
 * is longer, by how much exercise 04 derives.
 *
 * Chapter 07: the warm-up of p - s - 1 assumes free links. When a message
 * takes d, each link's round trip 2d is covered by shape->warmup_extra more
 * forwards per link downstream, K = ceil(2d / (t_F + t_B)): device s warms up
 * with (p - s - 1)(1 + K). K is 0 everywhere else.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_1f1b;

int pl_schedule_1f1b(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "1f1b", shape, 1, err, errlen))
        return -1;
    int failed = 0, p = shape->devices, m = shape->microbatches;
    // [region 1f1b]
    for (int d = 0; d < p; d++) {
        int warmup = (p - d - 1) * (1 + shape->warmup_extra); /* extra: 0 until chapter 07 */
        if (shape->max_inflight && warmup > shape->max_inflight - 1)
            warmup = shape->max_inflight - 1; /* a memory cap: at most K in flight */
        if (warmup > m)
            warmup = m;
        int fwd = 0, bwd = 0; /* next forward, next backward */
        while (fwd < warmup)
            failed |= pl_schedule_push(s, d, PL_F, fwd++, 0);
        while (fwd < m) { /* steady: in flight stays at warmup + 1 */
            failed |= pl_schedule_push(s, d, PL_F, fwd++, 0);
            failed |= pl_schedule_push(s, d, PL_B, bwd++, 0);
        }
        while (bwd < m) /* cooldown */
            failed |= pl_schedule_push(s, d, PL_B, bwd++, 0);
    }
    // [endregion 1f1b]
    return pl_schedule_end(s, "1f1b", failed, err, errlen);
}
