/*
 * zero_bubble.h -- chapter 06: the rule both zero-bubble schedules follow
 * (zb_h1.c, zb_h2.c); zero_bubble.c writes one device's list by it.
 */
#ifndef PL_ZERO_BUBBLE_H
#define PL_ZERO_BUBBLE_H

#include "schedule.h"

/*
 * The generator of a zero-bubble schedule (called `name`) that runs k(p-1)
 * forwards before its first W: in the steady state device d runs, for each
 * x, F_x, then I_(x - k(p-1-d)), then W_(x - k(p-1)). Stage 0 sends no input
 * gradient, so its I and W run back to back, as one B. Returns 0, or -1 with
 * a message in err (as every generator).
 */
int pl_zero_bubble_generate(pl_schedule *s, const pl_shape *shape, const char *name, int k,
                            char *err, size_t errlen);

#endif
