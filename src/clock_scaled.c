/*
 * clock_scaled.c -- the scaled clock: the virtual timeline, lived in host
 * time `scale` times slower.
 *
 * Each device keeps the modelled time exactly as the virtual clock does. An
 * action computes for real, then sleeps until its modelled end, scaled: an
 * absolute deadline counted from the run's start on the modelled timeline.
 * A device that wakes late -- the host was busy -- does not carry the delay:
 * its next deadline is still where the model puts it, so the next sleep is
 * shorter. Recorded times are host times, so what is measured is what
 * happened, and it stays within a wake-up's lateness of the model.
 */
#include "clock.h"

#include <math.h>

/* Sleep until host time t, in slices of at most PL_CLOCK_SLICE_NS, ending
 * early once the run stopped, so a failed run never waits out a modelled
 * action that lasts minutes. */
static void sleep_until(const pl_clock *c, int64_t t)
{
    for (;;) {
        int64_t now = c->host->now(c->host->ctx);
        if (now >= t || (c->stopped && c->stopped(c->stop_ctx)))
            return;
        c->host->sleep_until(c->host->ctx,
                             t - now > PL_CLOCK_SLICE_NS ? now + PL_CLOCK_SLICE_NS : t);
    }
}

/* Host ns since the epoch. */
static int64_t host_time(const pl_clock *c)
{
    return c->host->now(c->host->ctx) - c->epoch;
}

/* Host time of modelled time t: an absolute deadline from the run's start. */
static int64_t deadline(const pl_clock *c, int64_t t)
{
    double host = (double)c->epoch + (double)t * c->ns_per_tick * c->scale;
    return host < 9e18 ? (int64_t)host : INT64_MAX; /* the experiment refuses runs this long */
}

// [region clock-scaled]
static int64_t begin(pl_clock *c, int64_t ready)
{
    c->model_start = c->model > ready ? c->model : ready;
    /* An input that is still on its link (chapter 07) is waited for. */
    sleep_until(c, deadline(c, c->model_start));
    return host_time(c);
}

static int64_t end(pl_clock *c, int64_t cost)
{
    c->model = c->model_start + cost;
    /* The deadline is absolute on the modelled timeline: lateness in an
     * earlier action shortens this sleep instead of adding to it. */
    sleep_until(c, deadline(c, c->model));
    return host_time(c);
}
// [endregion clock-scaled]

static double ns_per_tick(const pl_clock *c)
{
    (void)c;
    return 1.0; /* recorded times are host ns */
}

static int64_t span(const pl_clock *c, int64_t ticks)
{
    return llround((double)ticks * c->ns_per_tick * c->scale);
}

const pl_clock_ops pl_clock_scaled_ops = {begin, end, pl_clock_model_stamp,
                                          pl_clock_model_advance, ns_per_tick, span};
