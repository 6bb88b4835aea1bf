/*
 * clock_real.c -- the real clock: no model, an action takes what the host
 * takes. The speedups it shows are real and bounded by the host's cores.
 */
#include "clock.h"

static int64_t host_time(const pl_clock *c)
{
    return c->host->now(c->host->ctx) - c->epoch;
}

static int64_t begin(pl_clock *c, int64_t ready)
{
    (void)ready; /* the thread really waited for its input */
    return host_time(c);
}

static int64_t end(pl_clock *c, int64_t cost)
{
    (void)cost;
    return host_time(c);
}

static int64_t stamp(const pl_clock *c)
{
    return host_time(c);
}

static void advance(pl_clock *c, int64_t t)
{
    (void)c, (void)t;
}

static double ns_per_tick(const pl_clock *c)
{
    (void)c;
    return 1.0;
}

static int64_t span(const pl_clock *c, int64_t ticks)
{
    (void)c, (void)ticks;
    return 0; /* the real clock models no link */
}

const pl_clock_ops pl_clock_real_ops = {begin, end, stamp, advance, ns_per_tick, span};
