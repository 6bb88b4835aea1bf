/*
 * zb_h1.c -- chapter 06: ZB-H1, the zero-bubble schedule with 1F1B's memory.
 *
 * 1F1B's backward B is two halves: I, the gradient w.r.t. the stage input,
 * which the previous stage waits for, and W, the gradient w.r.t. the
 * weights, which nobody waits for. ZB-H1 keeps 1F1B's warm-up -- p - d - 1
 * forwards on device d -- and runs each I where 1F1B runs its B, so the
 * gradient travels up the pipeline t_W sooner per stage; each W waits until
 * the device has run p - 1 forwards beyond it, and the Ws left at the end
 * fill the tail of the pipeline that 1F1B leaves idle:
 *
 *     d0: F0 F1 F2 F3 B0 F4 B1 F5 B2 ...          (stage 0: I and W at once)
 *     d3: F0 I0 F1 I1 F2 I2 F3 I3 W0 F4 I4 W1 ... W5 W6 W7
 *
 * This is the order of the zero-bubble authors' ZB-H1 (ZeroBubbleH1Pipeline
 * in Megatron-DeepSpeed, with exact semantics), written from its rule:
 * device d runs F_x, I_(x-(p-1-d)), W_(x-(p-1)). Device d holds at most
 * min(p, m) micro-batches -- 1F1B's first device, on every device -- and for
 * m >= p every device idles (p-1) max(t_F, t_I, t_F + t_I - t_W): a third of
 * 1F1B's (p-1)(t_F + t_I + t_W) when the three are equal (registry.c has
 * the formula; the chapter derives it). Ws run in micro-batch order, so the
 * weights stay bitwise equal to the reference.
 */
#include "zero_bubble.h"

pl_generator pl_schedule_zb_h1;

int pl_schedule_zb_h1(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    /* W deferred by p - 1 */
    return pl_zero_bubble_generate(s, shape, "zb-h1", 1, err, errlen);
}
