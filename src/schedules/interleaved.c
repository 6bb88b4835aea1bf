/*
 * interleaved.c -- chapter 05: interleaved 1F1B, v chunks per device.
 *
 * Each device holds v model chunks in the loop placement (chunk c of device
 * d holds stage c*p + d), so a micro-batch goes round the devices v times.
 * The schedule is 1F1B's three phases, run over chunk-actions instead of
 * micro-batches, in the order Megatron-LM's
 * forward_backward_pipelining_with_interleaving uses:
 *
 *   order     micro-batches in groups of p; a group goes through chunk 0,
 *             then chunk 1, ..., then the next group ("depth first"). With
 *             p = 2, v = 2, m = 4 the forwards are
 *             F0.0 F1.0 F0.1 F1.1 F2.0 F3.0 F2.1 F3.1; the k-th backward is
 *             the k-th entry with its chunk mirrored (v-1-c), so backwards
 *             walk the chunks from the last down;
 *   warmup    2(p-d-1) + (v-1)p chunk-forwards on device d (capped at v*m):
 *             (v-1)p to reach the last chunk of the first micro-batch, and
 *             two per device downstream -- one backward's worth of forwards
 *             for each hop the first gradient travels before it gets here;
 *   steady    one chunk-forward, one chunk-backward;
 *   cooldown  the chunk-backwards that are left.
 *
 * With v = 1 there is nothing to interleave and this is exactly chapter 04's
 * 1F1B (warm-up p-d-1); the chapter says why the second forward per hop is
 * needed only when the micro-batches come round again.
 *
 * Megatron-LM and PyTorch (ScheduleInterleaved1F1B) need m to be a multiple
 * of p. Here every m >= 1 runs: the last group just holds the m mod p
 * micro-batches left (with m < p it is the only group). The chapter and its
 * tests show it valid, deadlock-free and bitwise equal; what it costs is a
 * larger bubble than (p-1)/(v*m+p-1), since a short group cannot keep the
 * loop of devices full.
 *
 * Every chunk sees its backwards in increasing micro-batch order, so weight
 * gradients accumulate as in the sequential reference.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_interleaved;

// [region interleaved-order]
/* The k-th chunk-action of every device, forward or backward: groups of p
 * micro-batches, each group through chunk 0, 1, ..., v-1 (forwards) or
 * v-1, ..., 0 (backwards). */
static pl_action nth(int k, int p, int v, pl_kind kind)
{
    int group = k / (p * v), i = k % (p * v), chunk = i / p;
    return (pl_action){kind, group * p + i % p, kind == PL_F ? chunk : v - 1 - chunk};
}
// [endregion interleaved-order]

/* Append a unless it belongs to a micro-batch past the last (m). */
static int push(pl_schedule *s, int d, pl_action a, int m)
{
    return a.mb < m ? pl_schedule_push(s, d, a.kind, a.mb, a.chunk) : 0;
}

int pl_schedule_interleaved(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "interleaved", shape, 0, err, errlen))
        return -1;
    int failed = 0, p = shape->devices, m = shape->microbatches, v = shape->chunks;
    // [region interleaved]
    int total = v * p * ((m + p - 1) / p); /* chunk-forwards per device, whole groups */
    for (int d = 0; d < p; d++) {
        int warmup = v == 1 ? p - d - 1 : 2 * (p - d - 1) + (v - 1) * p;
        if (warmup > total)
            warmup = total;
        int fwd = 0, bwd = 0; /* next chunk-forward, next chunk-backward */
        while (fwd < warmup)
            failed |= push(s, d, nth(fwd++, p, v, PL_F), m);
        while (fwd < total) { /* steady */
            failed |= push(s, d, nth(fwd++, p, v, PL_F), m);
            failed |= push(s, d, nth(bwd++, p, v, PL_B), m);
        }
        while (bwd < total) /* cooldown */
            failed |= push(s, d, nth(bwd++, p, v, PL_B), m);
    }
    // [endregion interleaved]
    return pl_schedule_end(s, "interleaved", failed, err, errlen);
}
