/*
 * clock.c -- the interface of the three clocks, and host time (chapter 01).
 * The back ends are clock_virtual.c, clock_scaled.c and clock_real.c.
 */
#include "clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

extern const pl_clock_ops pl_clock_virtual_ops, pl_clock_scaled_ops, pl_clock_real_ops;

static const char *const names[] = {"virtual", "scaled", "real"};
static const pl_clock_ops *const backends[] = {&pl_clock_virtual_ops, &pl_clock_scaled_ops,
                                               &pl_clock_real_ops};

const char *pl_clock_name(pl_clock_kind k)
{
    return (unsigned)k <= PL_CLOCK_REAL ? names[k] : "unknown";
}

int pl_clock_parse(const char *name, pl_clock_kind *out)
{
    for (int k = 0; k <= PL_CLOCK_REAL; k++)
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

static int64_t system_now(void *ctx)
{
    (void)ctx;
    return pl_clock_host_ns();
}

static void system_sleep_until(void *ctx, int64_t t)
{
    (void)ctx;
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: callers loop */
}

const pl_host pl_host_system = {system_now, system_sleep_until, NULL};

pl_clock pl_clock_make(pl_clock_kind kind, int64_t epoch, double ns_per_tick, double scale)
{
    pl_clock c;
    memset(&c, 0, sizeof c);
    c.ops = backends[(unsigned)kind <= PL_CLOCK_REAL ? kind : PL_CLOCK_VIRTUAL];
    c.epoch = epoch;
    c.ns_per_tick = ns_per_tick;
    c.scale = scale;
    c.host = &pl_host_system;
    return c;
}

void pl_clock_on_stop(pl_clock *c, int (*stopped)(void *ctx), void *ctx)
{
    c->stopped = stopped;
    c->stop_ctx = ctx;
}

void pl_clock_use_host(pl_clock *c, const pl_host *host)
{
    c->host = host;
}

double pl_clock_predict_ns(pl_clock_kind kind, int64_t ticks, double ns_per_tick, double scale)
{
    return (double)ticks * ns_per_tick * (kind == PL_CLOCK_SCALED ? scale : 1.0);
}

const char *pl_clock_ms_text(double ms, char *buf, size_t n)
{
    snprintf(buf, n, ms != 0 && fabs(ms) < 0.01 ? "%.3g" : "%.3f", ms);
    return buf;
}
