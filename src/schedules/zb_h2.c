/*
 * zb_h2.c -- chapter 06: ZB-H2, zero bubble for twice 1F1B's memory.
 *
 * ZB-H1 still idles at the start: device 0 waits for the first gradient
 * after its p forwards. ZB-H2 fills that wait with more forwards -- 2(p-1-d)
 * warm-up forwards on device d, up to 2p - 1 micro-batches in flight -- and
 * defers each W by 2(p-1): device d runs F_x, I_(x-2(p-1-d)), W_(x-2(p-1)).
 * With t_F = t_I = t_W every device is then busy from its first action to
 * its last; device d starts d t_F after device 0 and ends d t_F after it: a
 * parallelogram. Its single-step makespan is ZB-H1's -- the steps' slanted
 * edges still idle -- but without a barrier between steps each device goes
 * straight on into the next step, and the period per step is the busy time:
 * zero bubble (chapter 06 measures both).
 *
 *     d0: F0 F1 F2 F3 F4 F5 F6 B0 F7 B1 B2 ...
 *     d3: F0 I0 F1 I1 F2 I2 F3 I3 F4 I4 F5 I5 F6 I6 W0 F7 I7 W1 W2 ... W7
 *
 * No zero-bubble repository publishes a ZB-H2 generator (their 2p-memory
 * schedules come from a search); this is the paper's handcrafted ZB-H2
 * written from its rule. Ws run in micro-batch order.
 */
#include "zero_bubble.h"

pl_generator pl_schedule_zb_h2;

int pl_schedule_zb_h2(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    /* W deferred by 2(p - 1) */
    return pl_zero_bubble_generate(s, shape, "zb-h2", 2, err, errlen);
}
