/*
 * clock.c -- the three clocks behind one interface (chapter 01).
 */
#include "clock.h"

#include <string.h>
#include <time.h>

static const char *names[] = {"virtual", "scaled", "real"};

const char *pl_clock_name(pl_clock_kind k)
{
    return names[k];
}

int pl_clock_parse(const char *name, pl_clock_kind *out)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = (pl_clock_kind)k;
            return 0;
        }
    return -1;
}

int64_t pl_clock_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

pl_clock pl_clock_make(pl_clock_kind kind, int64_t epoch, double scale)
{
    pl_clock c = {kind, 0, epoch, scale, NULL};
    return c;
}

// [region clock]
int64_t pl_clock_begin(pl_clock *c, int64_t ready)
{
    if (c->kind == PL_CLOCK_VIRTUAL)
        return c->now > ready ? c->now : ready;
    return pl_clock_host_ns() - c->epoch;
}

/* Sleep to an absolute deadline, not for a duration: a late wake-up in one
 * action is not carried into the next, so modelled time does not drift.
 * The sleep goes in slices of at most PL_CLOCK_SLICE_NS and ends early once
 * the run's stop flag is set, so a failed or stalled run stops promptly even
 * when one modelled action lasts minutes. */
static void sleep_until(const pl_clock *c, int64_t host_ns)
{
    for (;;) {
        int64_t now = pl_clock_host_ns(), t = host_ns;
        if (now >= host_ns || (c->stop && atomic_load(c->stop)))
            return;
        if (t - now > PL_CLOCK_SLICE_NS)
            t = now + PL_CLOCK_SLICE_NS;
        struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop */
    }
}

int64_t pl_clock_end(pl_clock *c, int64_t start, int64_t cost)
{
    switch (c->kind) {
    case PL_CLOCK_VIRTUAL:
        c->now = start + cost;
        return c->now;
    case PL_CLOCK_SCALED:
        sleep_until(c, c->epoch + start + (int64_t)((double)cost * c->scale));
        return pl_clock_host_ns() - c->epoch;
    case PL_CLOCK_REAL:
        break;
    }
    return pl_clock_host_ns() - c->epoch;
}
// [endregion clock]

void pl_clock_advance(pl_clock *c, int64_t t)
{
    if (c->kind == PL_CLOCK_VIRTUAL && t > c->now)
        c->now = t;
}
