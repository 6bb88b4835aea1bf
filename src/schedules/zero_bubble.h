/*
 * zero_bubble.h -- chapter 06: the rule both zero-bubble schedules follow
 * (zb_h1.c, zb_h2.c); zero_bubble.c writes one device's list by it.
 */
#ifndef PL_ZERO_BUBBLE_H
#define PL_ZERO_BUBBLE_H

#include "schedule.h"

/*
 * Append device d's list for a zero-bubble schedule that runs k(p-1)
 * forwards before its first W: in the steady state the device runs, for
 * each x, F_x, then I_(x - k(p-1-d)), then W_(x - k(p-1)). Stage 0 sends no
 * input gradient, so its I and W run back to back, as one B. Returns 0, or
 * -1 if a push failed.
 */
int pl_zero_bubble_device(pl_schedule *s, int d, int k);

#endif
