/*
 * interleaved.c -- chapter 05: interleaved 1F1B, v chunks per device.
 *
 * Each device holds v model chunks in the loop placement (chunk c of device
 * d holds stage c*p + d), so a micro-batch goes round the devices v times.
 * The schedule is 1F1B's three phases, run over chunk-actions instead of
 * micro-batches, in the order of Megatron-LM's
 * forward_backward_pipelining_with_interleaving:
 *
 *   order     micro-batches in groups of p; a group goes through chunk 0,
 *             then chunk 1, ..., then the next group ("depth first"). With
 *             p = 2, v = 2, m = 4 the forwards are
 *             F0.0 F1.0 F0.1 F1.1 F2.0 F3.0 F2.1 F3.1; the k-th backward is
 *             the k-th entry with its chunk mirrored (v-1-c), so backwards
 *             walk the chunks from the last down;
 *   warmup    (v-1)p + 2(p-d-1) chunk-forwards on device d, capped at v*m:
 *             counting every action as one step, the forwards that fit
 *             before the first gradient comes back -- (v-1)p to bring
 *             micro-batch 0 to the last chunk, one step per device on its
 *             way down and one on its way back up;
 *   steady    one chunk-forward, one chunk-backward;
 *   cooldown  the chunk-backwards that are left.
 *
 * With v = 1 there is nothing to interleave and the warm-up is chapter 04's
 * p-d-1: this is exactly 1F1B. (The same count would give 2(p-d-1); the
 * chapter measures that the extra forwards buy 1F1B nothing.)
 *
 * Where p divides m this is the order of Megatron-LM and of PyTorch's
 * ScheduleInterleaved1F1B, action for action. Otherwise Megatron-LM
 * refuses; here every m >= 1 runs, as the schedule for whole groups with
 * the missing micro-batches' actions left out (pl_schedule_keep). Leaving
 * actions out of a valid schedule keeps it valid and delays nothing; what
 * the short last group costs is a bubble above (p-1)/(v*m+p-1), which the
 * chapter measures.
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
            failed |= pl_schedule_keep(s, d, nth(fwd++, p, v, PL_F));
        while (fwd < total) { /* steady */
            failed |= pl_schedule_keep(s, d, nth(fwd++, p, v, PL_F));
            failed |= pl_schedule_keep(s, d, nth(bwd++, p, v, PL_B));
        }
        while (bwd < total) /* cooldown */
            failed |= pl_schedule_keep(s, d, nth(bwd++, p, v, PL_B));
    }
    // [endregion interleaved]
    return pl_schedule_end(s, "interleaved", failed, err, errlen);
}
