/*
 * clock_virtual.c -- the virtual clock: time is modelled, nothing sleeps.
 *
 * Threads, messages and tensors are real; only time is arithmetic. An action
 * starts when both its device and its input are ready, and lasts its cost,
 * so every run gives the same ticks -- those of the simulator.
 */
#include "clock.h"

// [region clock-virtual]
static int64_t begin(pl_clock *c, int64_t ready)
{
    c->model_start = c->model > ready ? c->model : ready;
    return c->model_start;
}

static int64_t end(pl_clock *c, int64_t cost)
{
    c->model = c->model_start + cost;
    return c->model;
}
// [endregion clock-virtual]

/* The modelled time is a message's stamp; a barrier moves it on. The scaled
 * clock keeps the same modelled time and shares these two. */
int64_t pl_clock_model_stamp(const pl_clock *c)
{
    return c->model;
}

void pl_clock_model_advance(pl_clock *c, int64_t t)
{
    if (t > c->model)
        c->model = t;
}

static double ns_per_tick(const pl_clock *c)
{
    return c->ns_per_tick;
}

static int64_t span(const pl_clock *c, int64_t ticks)
{
    (void)c;
    return ticks;
}

const pl_clock_ops pl_clock_virtual_ops = {begin, end, pl_clock_model_stamp,
                                           pl_clock_model_advance, ns_per_tick, span};
